/**
 * A small strict XML reader for the JUnit test: elements, attributes, text, the five predefined
 * entities and numeric references, an optional declaration. It throws on anything not well-formed
 * (unbalanced or mismatched tags, unquoted attributes, a bare & or <, duplicate attributes, text
 * outside the root), which is what the test needs to prove about the report.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: Array<XmlElement | string>;
}

const NAME = /^[A-Za-z_][\w.-]*/;

function decode(text: string, at: number): string {
  return text.replace(/&([^;]*);|&/g, (_match, ref: string | undefined) => {
    if (ref === undefined) throw new Error(`bare & at ${at}`);
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (ref in named) return named[ref]!;
    const num = /^#(x[0-9a-fA-F]+|\d+)$/.exec(ref);
    if (num) return String.fromCodePoint(num[1]!.startsWith('x') ? parseInt(num[1]!.slice(1), 16) : Number(num[1]));
    throw new Error(`unknown entity &${ref}; at ${at}`);
  });
}

export function parseXml(xml: string): XmlElement {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`not well-formed XML: ${what} at offset ${i}`);
  };
  const skipSpace = (): void => {
    while (i < xml.length && /\s/.test(xml[i]!)) i++;
  };
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) fail('unterminated declaration');
    i = end + 2;
  }
  skipSpace();
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < xml.length) {
    if (xml[i] === '<') {
      if (xml.startsWith('</', i)) {
        i += 2;
        const m = NAME.exec(xml.slice(i)) ?? fail('bad closing tag');
        i += m[0].length;
        skipSpace();
        if (xml[i] !== '>') fail('closing tag not ended by >');
        i++;
        const open = stack.pop() ?? fail(`unexpected </${m[0]}>`);
        if (open.name !== m[0]) fail(`</${m[0]}> closes <${open.name}>`);
        if (stack.length === 0) {
          skipSpace();
          if (i < xml.length) fail('content after the root element');
        }
        continue;
      }
      if (xml.startsWith('<!--', i)) {
        const end = xml.indexOf('-->', i);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
        continue;
      }
      i++;
      const m = NAME.exec(xml.slice(i)) ?? fail('bad tag name');
      i += m[0].length;
      const el: XmlElement = { name: m[0], attrs: {}, children: [] };
      for (;;) {
        const before = i;
        skipSpace();
        if (xml.startsWith('/>', i) || xml[i] === '>') break;
        if (i === before) fail('attributes must be separated by space');
        const a = NAME.exec(xml.slice(i)) ?? fail('bad attribute name');
        i += a[0].length;
        if (xml[i] !== '=') fail(`attribute ${a[0]} without =`);
        i++;
        const q = xml[i];
        if (q !== '"' && q !== "'") fail(`attribute ${a[0]} not quoted`);
        const end = xml.indexOf(q!, i + 1);
        if (end < 0) fail('unterminated attribute value');
        const raw = xml.slice(i + 1, end);
        if (raw.includes('<')) fail('< inside an attribute value');
        if (a[0] in el.attrs) fail(`duplicate attribute ${a[0]}`);
        el.attrs[a[0]] = decode(raw, i);
        i = end + 1;
      }
      if (stack.length === 0) {
        if (root) fail('a second root element');
        root = el;
      } else stack[stack.length - 1]!.children.push(el);
      if (xml.startsWith('/>', i)) {
        i += 2;
        if (stack.length === 0) {
          skipSpace();
          if (i < xml.length) fail('content after the root element');
        }
      } else {
        i++;
        stack.push(el);
      }
      continue;
    }
    const next = xml.indexOf('<', i);
    const text = xml.slice(i, next < 0 ? xml.length : next);
    if (stack.length === 0) {
      if (text.trim()) fail('text outside the root element');
    } else if (text.length) stack[stack.length - 1]!.children.push(decode(text, i));
    i = next < 0 ? xml.length : next;
  }
  if (stack.length) fail(`<${stack[stack.length - 1]!.name}> not closed`);
  return root ?? fail('no root element');
}
