/**
 * Just enough XML for STS responses, without a DOM (Workers have none).
 *
 * It reads elements and their text, and nothing else: attributes are skipped,
 * namespace prefixes dropped, and only the five predefined entities and
 * numeric character references are decoded. A DOCTYPE is skipped, never
 * applied, so declared entities cannot expand (no "billion laughs").
 * @module
 */

/** An element: its local name, child elements and decoded text. */
export interface XmlElement {
  /** Local name, without a namespace prefix. */
  readonly name: string;
  /** Child elements, in document order. */
  readonly children: XmlElement[];
  /** The element's own text (not its children's), entities decoded, CDATA included. */
  text: string;
}

/** The input is not well-formed enough to read. Its message never quotes element text. */
export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XmlError";
  }
}

/** Options for {@link parseXml}. */
export interface ParseXmlOptions {
  /**
   * Deepest element nesting accepted.
   * @default {32}
   */
  maxDepth?: number;
  /**
   * Longest input accepted, in UTF-16 code units.
   * @default {1048576}
   */
  maxLength?: number;
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/**
 * Decodes `&amp; &lt; &gt; &quot; &apos;` and `&#NN;` / `&#xHH;`. Anything else
 * (unknown names, invalid code points) is left as written.
 *
 * @example
 * ```ts
 * import { decodeXmlEntities } from "./xml.ts";
 * console.log(decodeXmlEntities("a &amp; b &#x263A; &#65;")); // a & b ☺ A
 * ```
 */
export function decodeXmlEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(
    /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,4});/g,
    (match, body: string) => {
      if (body[0] !== "#") return NAMED[body] ?? match;
      const cp = body[1] === "x" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      const valid = cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
      return valid ? String.fromCodePoint(cp) : match;
    },
  );
}

function localName(qname: string): string {
  const colon = qname.indexOf(":");
  return colon < 0 ? qname : qname.slice(colon + 1);
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*$/;

/**
 * Parses `source` into its root element.
 *
 * @example
 * ```ts
 * import { parseXml, xmlText } from "./xml.ts";
 * const root = parseXml("<a xmlns='x'><b>1 &lt; 2</b></a>");
 * console.log(xmlText(root, "b")); // 1 < 2
 * ```
 * @throws {XmlError} when the input is not well-formed (unclosed or mismatched tags, no root, text outside it), too deep or too long.
 */
export function parseXml(source: string, options: ParseXmlOptions = {}): XmlElement {
  const { maxDepth = 32, maxLength = 1 << 20 } = options;
  if (source.length > maxLength) {
    throw new XmlError(`XML is too long: ${source.length} > ${maxLength}`);
  }
  const s = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const stack: { element: XmlElement; qname: string }[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  const fail = (what: string): never => {
    throw new XmlError(`Cannot parse XML at offset ${i}: ${what}`);
  };
  const skipTo = (marker: string, from: number): number => {
    const at = s.indexOf(marker, from);
    if (at < 0) fail(`missing "${marker}"`);
    return at + marker.length;
  };

  while (i < s.length) {
    const lt = s.indexOf("<", i);
    const end = lt < 0 ? s.length : lt;
    if (end > i) {
      const chunk = s.slice(i, end);
      const top = stack.at(-1);
      if (top) top.element.text += decodeXmlEntities(chunk);
      else if (chunk.trim() !== "") fail("text outside the root element");
    }
    if (lt < 0) break;
    i = lt;
    if (s.startsWith("<!--", i)) {
      i = skipTo("-->", i + 4);
    } else if (s.startsWith("<![CDATA[", i)) {
      const close = skipTo("]]>", i + 9);
      const top = stack.at(-1) ?? fail("CDATA outside the root element");
      top.element.text += s.slice(i + 9, close - 3);
      i = close;
    } else if (s.startsWith("<?", i)) {
      i = skipTo("?>", i + 2);
    } else if (s.startsWith("<!", i)) {
      // DOCTYPE or another declaration: skipped whole, internal subset included.
      const bracket = s.indexOf("[", i);
      const gt = s.indexOf(">", i);
      i = bracket >= 0 && (gt < 0 || bracket < gt)
        ? skipTo(">", skipTo("]", bracket))
        : skipTo(">", i);
    } else if (s.startsWith("</", i)) {
      const close = skipTo(">", i + 2);
      const qname = s.slice(i + 2, close - 1).trim();
      const top = stack.pop();
      if (!top) fail(`closing tag </${qname.slice(0, 40)}> without an open element`);
      else if (top.qname !== qname) {
        fail(`</${qname.slice(0, 40)}> closes <${top.qname.slice(0, 40)}>`);
      }
      i = close;
    } else {
      // A start tag: find its ">" outside quoted attribute values.
      let j = i + 1;
      let quote = "";
      for (; j < s.length; j++) {
        const c = s[j];
        if (quote) {
          if (c === quote) quote = "";
        } else if (c === '"' || c === "'") quote = c;
        else if (c === ">") break;
      }
      if (j >= s.length) fail("unterminated start tag");
      let inner = s.slice(i + 1, j);
      const selfClosing = inner.endsWith("/");
      if (selfClosing) inner = inner.slice(0, -1);
      const qname = /^[^\s/>]*/.exec(inner)![0];
      if (!NAME.test(qname)) fail("invalid element name");
      const element: XmlElement = { name: localName(qname), children: [], text: "" };
      const top = stack.at(-1);
      if (top) top.element.children.push(element);
      else if (root) fail("more than one root element");
      else root = element;
      if (!selfClosing) {
        stack.push({ element, qname });
        if (stack.length > maxDepth) fail(`nesting deeper than ${maxDepth}`);
      }
      i = j + 1;
    }
  }
  if (stack.length > 0) fail(`unclosed <${stack.at(-1)!.qname.slice(0, 40)}>`);
  return root ?? fail("no root element");
}

/** The first child of `element` named `name` (local name), if any. */
export function xmlChild(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name);
}

/**
 * Follows `path` through first children by local name and returns that
 * element's trimmed text, or `undefined` when the path does not exist.
 */
export function xmlText(element: XmlElement, ...path: string[]): string | undefined {
  let at: XmlElement | undefined = element;
  for (const name of path) {
    at = xmlChild(at, name);
    if (!at) return undefined;
  }
  return at.text.trim();
}
