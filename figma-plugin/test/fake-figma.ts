// A fake of the part of Figma's plugin API the plugin uses, built from a template in Figma's REST format.
// It keeps Figma's rules that matter here: characters can only be set once the layer's font is loaded,
// clone() puts the copy on the current page until it is inserted, x/y are relative to the parent.

const MIXED: unique symbol = Symbol("figma.mixed") as never;

let counter = 0;

export class FakeNode {
  id: string;
  name: string;
  type: string;
  visible = true;
  x = 0;
  y = 0;
  width = 0;
  height = 0;
  parent: FakeNode | null = null;
  children: FakeNode[] = [];
  fills: unknown[] = [];
  layoutMode = "NONE";
  fontName: { family: string; style: string } | symbol = { family: "Inter", style: "Regular" };
  hasMissingFont = false;
  private chars = "";
  private fonts: { family: string; style: string }[] = [];
  constructor(private readonly figma: FakeFigma, id: string, name: string, type: string) {
    this.id = id;
    this.name = name;
    this.type = type;
  }

  get characters(): string {
    return this.chars;
  }

  set characters(value: string) {
    if (this.type !== "TEXT") throw new Error("not a text node");
    const needed = this.fontName === MIXED ? this.fonts : [this.fontName as { family: string; style: string }];
    for (const font of needed) {
      if (!this.figma.loaded.has(`${font.family}/${font.style}`)) {
        throw new Error(`Cannot write to node with unloaded font "${font.family} ${font.style}"`);
      }
    }
    this.chars = value;
  }

  /** The fonts of a mixed-font text (set by the fake's builder). */
  setMixedFonts(fonts: { family: string; style: string }[]): void {
    this.fontName = MIXED;
    this.fonts = fonts;
  }

  getRangeAllFontNames(_start: number, _end: number): { family: string; style: string }[] {
    return this.fontName === MIXED ? this.fonts : [this.fontName as { family: string; style: string }];
  }

  clone(): FakeNode {
    const copy = this.copyTree();
    this.figma.currentPage.appendChild(copy);
    return copy;
  }

  private copyTree(): FakeNode {
    const copy = new FakeNode(this.figma, `I${++counter}`, this.name, this.type);
    Object.assign(copy, { visible: this.visible, x: this.x, y: this.y, width: this.width, height: this.height,
      fills: [...this.fills], layoutMode: this.layoutMode, fontName: this.fontName, hasMissingFont: this.hasMissingFont });
    copy.chars = this.chars;
    copy.fonts = this.fonts;
    for (const child of this.children) {
      const c = child.copyTree();
      c.parent = copy;
      copy.children.push(c);
    }
    this.figma.register(copy);
    return copy;
  }

  appendChild(node: FakeNode): void {
    this.insertChild(this.children.length, node);
  }

  insertChild(index: number, node: FakeNode): void {
    if (node.parent) node.parent.children.splice(node.parent.children.indexOf(node), 1);
    node.parent = this;
    this.children.splice(index, 0, node);
  }

  remove(): void {
    if (this.parent) this.parent.children.splice(this.parent.children.indexOf(this), 1);
    this.parent = null;
  }

  resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
  }

  /** Every layer below this one, depth first. */
  all(): FakeNode[] {
    return this.children.flatMap((c) => [c, ...c.all()]);
  }
}

export class FakeFigma {
  readonly mixed = MIXED;
  readonly loaded = new Set<string>();
  readonly fontLoads: string[] = [];
  readonly images: Uint8Array[] = [];
  readonly available = new Set<string>(["Inter/Regular", "Inter/Bold"]);
  readonly currentPage: FakeNode;
  private readonly nodes = new Map<string, FakeNode>();

  constructor() {
    this.currentPage = new FakeNode(this, "0:1", "Page", "PAGE");
  }

  register(node: FakeNode): void {
    this.nodes.set(node.id, node);
  }

  async getNodeByIdAsync(id: string): Promise<FakeNode | null> {
    const node = this.nodes.get(id);
    return node && this.attached(node) ? node : null;
  }

  private attached(node: FakeNode): boolean {
    for (let n: FakeNode | null = node; n; n = n.parent) if (n === this.currentPage) return true;
    return false;
  }

  async loadFontAsync(font: { family: string; style: string }): Promise<void> {
    const key = `${font.family}/${font.style}`;
    if (!this.available.has(key)) throw new Error(`The font "${font.family} ${font.style}" could not be loaded`);
    this.fontLoads.push(key);
    this.loaded.add(key);
  }

  createImage(bytes: Uint8Array): { hash: string } {
    this.images.push(bytes);
    return { hash: `image-${this.images.length}` };
  }

  base64Decode(data: string): Uint8Array {
    return new Uint8Array(Buffer.from(data, "base64"));
  }

  /** Build the layers of a REST node (absolute boxes become parent-relative x/y) under `parent`. */
  build(rest: any, parent: FakeNode = this.currentPage, origin = { x: 0, y: 0 }): FakeNode { // eslint-disable-line @typescript-eslint/no-explicit-any
    const node = new FakeNode(this, rest.id, rest.name, rest.type);
    const box = rest.absoluteBoundingBox ?? { x: origin.x, y: origin.y, width: 0, height: 0 };
    Object.assign(node, { x: box.x - origin.x, y: box.y - origin.y, width: box.width, height: box.height,
      visible: rest.visible !== false, fills: rest.fills ?? [], layoutMode: rest.layoutMode ?? "NONE" });
    if (rest.type === "TEXT") {
      node.fontName = { family: rest.style?.fontFamily ?? "Inter", style: rest.style?.fontStyle ?? "Regular" };
      (node as unknown as { chars: string }).chars = rest.characters ?? "";
    }
    this.register(node);
    parent.appendChild(node);
    for (const child of rest.children ?? []) this.build(child, node, { x: box.x, y: box.y });
    return node;
  }
}
