// The plugin applies the demo job's fill plans to the bundled template in a fake Figma, and reports what it cannot.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { Api, applyPlan, checkPlan, FillPlan } from "../src/apply";
import { FakeFigma, FakeNode } from "./fake-figma";

const ROOT = join(__dirname, "..", "..");
const TEMPLATE = JSON.parse(readFileSync(join(ROOT, "..", "examples", "figma", "report-template.json"), "utf8"));
const fixture = (name: string): FillPlan => JSON.parse(readFileSync(join(ROOT, "test", "fixtures", name), "utf8"));

function setUp(): { figma: FakeFigma; frame: FakeNode; api: Api } {
  const figma = new FakeFigma();
  const frame = figma.build(TEMPLATE.document.children[0].children[0]);
  return { figma, frame, api: figma as unknown as Api };
}

const byName = (root: FakeNode, name: string): FakeNode[] => root.all().filter((n) => n.name === name);

for (const name of ["demo-plan.json", "demo-plan.de_DE.json"]) {
  test(`${name}: every replacement applies to a copy of the template`, async () => {
    const { figma, frame, api } = setUp();
    const plan = checkPlan(fixture(name));
    const before = JSON.stringify(frame.all().map((n) => [n.id, n.characters, n.visible]));
    const report = await applyPlan(api, plan, { roots: [frame as unknown as SceneNode] });
    assert.deepEqual(report.unapplied, []);
    const items = plan.replacements.filter((r) => r.kind === "clone").reduce((n, r) => n + r.value.items.flat().length, 0);
    assert.equal(report.applied, plan.replacements.length + items);
    // The template stays as designed; the copy beside it holds the report.
    assert.equal(JSON.stringify(frame.all().map((n) => [n.id, n.characters, n.visible])), before);
    const copy = (await figma.getNodeByIdAsync(report.copy!))!;
    assert.ok(copy && copy !== frame && copy.x > frame.x + frame.width && copy.name.includes(plan.locale));
    for (const rep of plan.replacements.filter((r) => r.kind === "text")) {
      const [node] = byName(copy, rep.node_name);
      assert.equal(node.characters, rep.value, rep.field);
    }
    const title = plan.replacements.find((r) => r.field === "title")!;
    assert.ok(title.value.length > 3 && byName(copy, "#title")[0].characters === title.value);
    // Fonts were loaded before any text was set (the fake throws otherwise), each text layer's own.
    assert.ok(figma.fontLoads.includes("Inter/Bold") && figma.fontLoads.includes("Inter/Regular"));
    // The chart is an image fill made from the plan's PNG bytes.
    const chart = plan.replacements.find((r) => r.kind === "image")!;
    const [rect] = byName(copy, chart.node_name);
    assert.deepEqual(rect.fills, [{ type: "IMAGE", imageHash: "image-1", scaleMode: "FIT" }]);
    assert.deepEqual([...figma.images[0].slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]); // PNG signature
    // One claim layer per claim, in order, stacked by the auto-layout frame.
    const clone = plan.replacements.find((r) => r.kind === "clone")!;
    const [group] = byName(copy, clone.node_name);
    assert.equal(group.children.length, clone.value.count);
    const labels = group.children.map((item) => byName(item, "#claim.label")[0].characters);
    assert.deepEqual(labels, clone.value.items.map((item: { field: string; value: string }[]) =>
      item.find((c) => c.field === "claim.label")!.value));
    // The banner follows the quorum: hidden when every provider answered.
    const banner = plan.replacements.find((r) => r.field === "banner" && r.kind === "visibility")!;
    assert.equal(byName(copy, "#banner")[0].visible, banner.value);
  });
}

const copyOf = async (figma: FakeFigma, id: string | null): Promise<FakeNode> => (await figma.getNodeByIdAsync(id!))!;

test("a plan naming a layer the file does not have reports it and applies the rest", async () => {
  const { frame, api } = setUp();
  const plan = fixture("demo-plan.json");
  plan.replacements.unshift({ node_id: "99:1", node_name: "#subtitle", field: "subtitle", kind: "text", value: "x" });
  const report = await applyPlan(api, plan, { roots: [frame as unknown as SceneNode] });
  assert.deepEqual(report.unapplied, [{ node_id: "99:1", field: "subtitle", kind: "text", reason: "not in the selected frames" }]);
  assert.ok(report.applied > 20);
});

test("nothing selected: the plan is refused, the file untouched", async () => {
  const { figma, api } = setUp();
  const before = figma.currentPage.all().length;
  await assert.rejects(applyPlan(api, fixture("demo-plan.json"), { roots: [] }), /select the template's frame/);
  assert.equal(figma.currentPage.all().length, before);
});

test("a plan for another file changes no layer that merely shares an id", async () => {
  const { figma, frame, api } = setUp();
  frame.all().forEach((n, i) => { n.name = `Invoice layer ${i}`; }); // same ids, another design
  const report = await applyPlan(api, fixture("demo-plan.json"), { roots: [frame as unknown as SceneNode] });
  const copy = await copyOf(figma, report.copy);
  assert.equal(report.applied, 0);
  assert.ok(report.unapplied.every((u) => /not this plan's template|not in the selected frames/.test(u.reason)));
  assert.ok(copy.all().every((n) => n.visible && !n.fills.some((f) => (f as { type: string }).type === "IMAGE")));
});

test("applying twice makes two filled copies, never doubled lists", async () => {
  const { figma, frame, api } = setUp();
  const plan = fixture("demo-plan.json");
  const count = plan.replacements.find((r) => r.kind === "clone")!.value.count;
  for (let i = 0; i < 2; i++) {
    const report = await applyPlan(api, plan, { roots: [frame as unknown as SceneNode] });
    const [group] = byName(await copyOf(figma, report.copy), "#claims[]");
    assert.equal(group.children.length, count);
  }
  assert.equal(byName(frame, "#claims[]")[0].children.length, 1); // the template keeps its prototype
});

test("a text layer whose font is missing is reported, never half-written", async () => {
  const { figma, frame, api } = setUp();
  figma.available.delete("Inter/Bold");
  const report = await applyPlan(api, fixture("demo-plan.json"), { roots: [frame as unknown as SceneNode] });
  const failed = report.unapplied.map((u) => u.field);
  assert.ok(failed.includes("title") && !failed.includes("summary.1"), failed.join(","));
  assert.equal(byName(await copyOf(figma, report.copy), "#title")[0].characters, "Report title"); // the sample stays
  assert.match(report.unapplied[0].reason, /could not be loaded/);
});

test("wrong layer types and an empty list are handled", async () => {
  const { figma, frame, api } = setUp();
  const plan = fixture("demo-plan.json");
  const chart = plan.replacements.find((r) => r.kind === "image")!;
  const clone = plan.replacements.find((r) => r.kind === "clone")!;
  clone.value = { ...clone.value, count: 0, items: [] };
  plan.replacements = [chart, clone, { ...chart, kind: "text", value: "not text" }];
  const report = await applyPlan(api, plan, { roots: [frame as unknown as SceneNode] });
  assert.deepEqual(report.unapplied.map((u) => u.reason), ["a RECTANGLE layer is not a text layer"]);
  const [group] = byName(await copyOf(figma, report.copy), clone.node_name);
  assert.equal(group.children.length, 1);
  assert.equal(group.children[0].visible, false); // no items: the prototype is hidden
});

test("checkPlan refuses what is not a plan", () => {
  assert.throws(() => checkPlan({ plan: [] }), /not a fill plan/);
  assert.throws(() => checkPlan({ replacements: [{ node_id: "1:2", kind: "move" }] }), /unknown kind/);
});
