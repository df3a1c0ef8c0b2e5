// Applies a Marketing Assistant fill plan to Figma layers: texts (fonts loaded first), clones for lists,
// image fills, visibility and colours; reports every change it could not make instead of stopping.

export type Kind = "text" | "image" | "visibility" | "fill" | "clone";

export interface Replacement {
  node_id: string;
  node_name: string;
  field: string;
  kind: Kind;
  value: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- by kind, see docs/figma.md
}

export interface FillPlan {
  template_id: string;
  version: number;
  job_id: string;
  locale: string;
  replacements: Replacement[];
  missing_fields: string[];
  unknown_fields: string[];
  overflow: { node_id: string; field: string; chars: number; limit: number }[];
}

export interface Unapplied {
  node_id: string;
  field: string;
  kind: string;
  reason: string;
}

export interface ApplyReport {
  applied: number;
  unapplied: Unapplied[];
  /** The id of the filled copy of the selected frame, when one was made. */
  copy: string | null;
}

/** The part of the plugin API the plan needs (the real `figma` global, or a fake in tests). */
export type Api = Pick<PluginAPI, "getNodeByIdAsync" | "loadFontAsync" | "createImage" | "base64Decode" | "mixed">;

export interface ApplyOptions {
  /** The template frames the user selected: the plan fills copies of them beside them (the template stays). */
  roots: readonly SceneNode[];
}

const KINDS: Kind[] = ["text", "image", "visibility", "fill", "clone"];

/** The plan in `data`, checked for the fields the plugin uses; throws an Error saying what is wrong. */
export function checkPlan(data: unknown): FillPlan {
  const plan = data as FillPlan;
  if (!plan || typeof plan !== "object" || !Array.isArray(plan.replacements)) {
    throw new Error("not a fill plan: expected an object with `replacements` (mka figma fill JOB --template T --json)");
  }
  for (const [n, rep] of plan.replacements.entries()) {
    if (typeof rep?.node_id !== "string" || !KINDS.includes(rep.kind)) {
      throw new Error(`replacement ${n + 1} has no node_id or an unknown kind`);
    }
  }
  return plan;
}

type Resolver = (id: string) => Promise<BaseNode | null>;

/** The layer must carry the name the plan expects: a plan made for another file (or another template) would
 * otherwise overwrite whatever layer happens to have the same id. */
function sameLayer(node: BaseNode, expected: string): void {
  if (node.name.trim() !== expected.trim()) {
    throw new Error(`the layer is named "${node.name}", not "${expected}": the selection is not this plan's template`);
  }
}

/** Pairs each layer of `source` with the layer at the same place in `copy` (a clone has the same tree). */
function pairs(source: BaseNode, copy: BaseNode, into: Map<string, BaseNode> = new Map()): Map<string, BaseNode> {
  into.set(source.id, copy);
  const a = "children" in source ? (source as ChildrenMixin).children : [];
  const b = "children" in copy ? (copy as ChildrenMixin).children : [];
  a.forEach((child, i) => {
    if (b[i]) pairs(child, b[i], into);
  });
  return into;
}

async function setText(api: Api, node: BaseNode, value: unknown): Promise<void> {
  if (node.type !== "TEXT") throw new Error(`a ${node.type} layer is not a text layer`);
  const text = node as TextNode;
  if (text.hasMissingFont) throw new Error("the layer's font is missing in this file");
  const fonts = text.fontName === api.mixed ? text.getRangeAllFontNames(0, text.characters.length) : [text.fontName as FontName];
  for (const font of fonts) await api.loadFontAsync(font);
  text.characters = String(value);
}

async function applyOne(api: Api, node: BaseNode, kind: Kind, value: any): Promise<void> { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (kind === "text") return setText(api, node, value);
  if (kind === "visibility") {
    (node as SceneNode).visible = Boolean(value);
    return;
  }
  if (!("fills" in node)) throw new Error(`a ${node.type} layer has no fills`);
  const shape = node as GeometryMixin & BaseNode;
  if (kind === "fill") {
    shape.fills = [{ type: "SOLID", color: { r: value.r, g: value.g, b: value.b }, opacity: value.a ?? 1 }];
    return;
  }
  if (kind === "image") {
    if (typeof value?.data !== "string" || !value.data) throw new Error("the image has no data");
    const image = api.createImage(api.base64Decode(value.data));
    shape.fills = [{ type: "IMAGE", imageHash: image.hash, scaleMode: value.scale_mode === "FILL" ? "FILL" : "FIT" }];
    return;
  }
  throw new Error(`unknown kind ${kind}`);
}

function autoLayout(node: BaseNode | null): boolean {
  return !!node && "layoutMode" in node && (node as FrameNode).layoutMode !== "NONE";
}

/** Frames without auto-layout grow to hold their children (as "hug contents" would), up to the top frame. */
function grow(start: BaseNode | null): void {
  for (let node = start; node && node.type !== "PAGE" && node.type !== "DOCUMENT"; node = node.parent) {
    if (node.type !== "FRAME" || autoLayout(node)) continue;
    const frame = node as FrameNode;
    const bottom = Math.max(0, ...frame.children.filter((c) => c.visible).map((c) => c.y + c.height));
    if (bottom > frame.height) frame.resize(frame.width, bottom);
  }
}

async function applyClone(api: Api, rep: Replacement, resolve: Resolver, originalOf: Map<string, string>,
                          report: ApplyReport): Promise<void> {
  const value = rep.value as { prototype: string; count: number; offset: { x: number; y: number }; items: Replacement[][] };
  const group = await resolve(rep.node_id);
  if (!group) throw new Error("not in the selected frames");
  sameLayer(group, rep.node_name);
  const proto = (await resolve(value.prototype)) as SceneNode | null;
  if (!proto) throw new Error(`its prototype layer ${value.prototype} is not in the selected frames`);
  const parent = proto.parent as (BaseNode & ChildrenMixin) | null;
  if (!parent || !("insertChild" in parent)) throw new Error("its prototype is not inside the group");
  if (value.count <= 0) {
    proto.visible = false;
    return;
  }
  const at = parent.children.indexOf(proto);
  const copies: SceneNode[] = [proto];
  try {
    for (let i = 1; i < value.count; i++) {
      const copy = proto.clone(); // before any item is filled: every copy starts from the designer's prototype
      copies.push(copy);
      parent.insertChild(at + i, copy);
    }
  } catch (e) {
    copies.slice(1).forEach((copy) => copy.remove()); // no stray copies on the page (an instance refuses children)
    throw e;
  }
  copies.forEach((copy, i) => {
    if (!autoLayout(parent)) {
      copy.x = proto.x + value.offset.x * i;
      copy.y = proto.y + value.offset.y * i;
    }
  });
  for (const [i, copy] of copies.entries()) {
    const inside = new Map<string, BaseNode>();  // the template's layer ids -> this item's layers
    pairs(proto, copy).forEach((node, id) => inside.set(originalOf.get(id) ?? id, node));
    for (const change of value.items[i] ?? []) {
      const target = inside.get(change.node_id);
      const field = `${rep.field.replace(/\[\]$/, "")}[${i + 1}].${change.field}`;
      if (!target) {
        report.unapplied.push({ node_id: change.node_id, field, kind: change.kind, reason: "not inside the prototype" });
        continue;
      }
      try {
        sameLayer(target, change.node_name);
        await applyOne(api, target, change.kind, change.value);
        report.applied++;
      } catch (e) {
        report.unapplied.push({ node_id: change.node_id, field, kind: change.kind, reason: (e as Error).message });
      }
    }
  }
  grow(parent);
}

/** Apply the plan to copies of the selected template frames; every replacement that fails is listed with its
 * reason and the others still apply. */
export async function applyPlan(api: Api, plan: FillPlan, options: ApplyOptions): Promise<ApplyReport> {
  const roots = options.roots ?? [];
  if (!roots.length) throw new Error("select the template's frame first: the plan fills a copy of it beside it");
  const report: ApplyReport = { applied: 0, unapplied: [], copy: null };
  const map = new Map<string, BaseNode>(); // a template layer's id -> the same layer in the copy
  const originalOf = new Map<string, string>(); // a layer of the copy -> the template layer it copies
  const copies: SceneNode[] = [];
  for (const root of roots) {
    const copy = root.clone();
    const parent = root.parent as (BaseNode & ChildrenMixin) | null;
    if (parent && "insertChild" in parent) parent.insertChild(parent.children.indexOf(root) + 1, copy);
    copy.x = root.x + root.width + 80;
    copy.y = root.y;
    copy.name = `${root.name} — ${plan.job_id.slice(0, 8)} ${plan.locale}`;
    pairs(root, copy).forEach((node, id) => {
      map.set(id, node);
      originalOf.set(node.id, id);
    });
    copies.push(copy);
  }
  report.copy = copies[0].id;
  const resolve: Resolver = async (id) => map.get(id) ?? null;
  for (const rep of plan.replacements) {
    try {
      if (rep.kind === "clone") {
        await applyClone(api, rep, resolve, originalOf, report);
        report.applied++;
        continue;
      }
      const node = await resolve(rep.node_id);
      if (!node) throw new Error("not in the selected frames");
      if (!copies.includes(node as SceneNode)) sameLayer(node, rep.node_name);
      await applyOne(api, node, rep.kind, rep.value);
      report.applied++;
    } catch (e) {
      report.unapplied.push({ node_id: rep.node_id, field: rep.field, kind: rep.kind, reason: (e as Error).message });
    }
  }
  copies.forEach((copy) => grow(copy));
  return report;
}
