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
    const report = await applyPlan(api, plan, { root: frame as unknown as SceneNode });
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

test("a plan naming a layer the file does not have reports it and applies the rest", async () => {
  const { frame, api } = setUp();
  const plan = fixture("demo-plan.json");
  plan.replacements.unshift({ node_id: "99:1", node_name: "#subtitle", field: "subtitle", kind: "text", value: "x" });
  const report = await applyPlan(api, plan, { root: frame as unknown as SceneNode });
  assert.deepEqual(report.unapplied, [{ node_id: "99:1", field: "subtitle", kind: "text", reason: "not in the selected frame" }]);
  assert.ok(report.applied > 20);
});

test("without a selection, layers are found by id in the file; a missing one is reported", async () => {
  const { frame, api } = setUp();
  const plan = fixture("demo-plan.json");
  plan.replacements.push({ node_id: "12:404", node_name: "#title", field: "title", kind: "text", value: "x" });
  const report = await applyPlan(api, plan);
  assert.equal(report.copy, null);
  assert.deepEqual(report.unapplied.map((u) => [u.node_id, u.reason]), [["12:404", "not in this file"]]);
  assert.equal(byName(frame, "#title")[0].characters, plan.replacements.find((r) => r.field === "title")!.value);
});

test("a text layer whose font is missing is reported, never half-written", async () => {
  const { figma, frame, api } = setUp();
  figma.available.delete("Inter/Bold");
  const report = await applyPlan(api, fixture("demo-plan.json"), { root: frame as unknown as SceneNode, inPlace: true });
  const failed = report.unapplied.map((u) => u.field);
  assert.ok(failed.includes("title") && !failed.includes("summary.1"), failed.join(","));
  assert.equal(byName(frame, "#title")[0].characters, "Report title"); // the designer's text is left
  assert.match(report.unapplied[0].reason, /could not be loaded/);
});

test("wrong layer types and an empty list are handled", async () => {
  const { frame, api } = setUp();
  const plan = fixture("demo-plan.json");
  const chart = plan.replacements.find((r) => r.kind === "image")!;
  const clone = plan.replacements.find((r) => r.kind === "clone")!;
  clone.value = { ...clone.value, count: 0, items: [] };
  plan.replacements = [chart, clone, { ...chart, kind: "text", value: "not text" }];
  const report = await applyPlan(api, plan, { root: frame as unknown as SceneNode, inPlace: true });
  assert.deepEqual(report.unapplied.map((u) => u.reason), ["a RECTANGLE layer is not a text layer"]);
  const [group] = byName(frame, clone.node_name);
  assert.equal(group.children.length, 1);
  assert.equal(group.children[0].visible, false); // no items: the prototype is hidden
});

test("checkPlan refuses what is not a plan", () => {
  assert.throws(() => checkPlan({ plan: [] }), /not a fill plan/);
  assert.throws(() => checkPlan({ replacements: [{ node_id: "1:2", kind: "move" }] }), /unknown kind/);
});
