// One colour per narrative, the same in every view of a session: the corpus' narratives
// (from /api/facets, sorted) get the 20 palette classes n0..n19 (app.css) in order; a label
// seen later gets one by a stable hash of it, probing to the next free one.

export const HUES = [210, 0, 120, 35, 280, 175, 330, 55, 250, 90, 15, 155, 300, 195, 45, 230, 345, 140, 265, 75];
export const OTHER = "Other";

const assigned = new Map(); // label -> index
const used = new Set();

function hash(s) {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function colourIndex(label) {
  if (assigned.has(label)) return assigned.get(label);
  let i = hash(label) % HUES.length;
  if (used.size < HUES.length) while (used.has(i)) i = (i + 1) % HUES.length;
  assigned.set(label, i);
  used.add(i);
  return i;
}

/** Give the corpus' narratives their colours first (sorted), so they do not depend on
 * the order documents are opened in. */
export function seed(labels) {
  for (const l of [...labels].sort()) {
    if (l === OTHER || assigned.has(l) || used.size >= HUES.length) continue;
    let i = 0; // the palette is ordered for contrast: hand out its colours in order
    while (used.has(i)) i += 1;
    assigned.set(l, i);
    used.add(i);
  }
}

/** The CSS classes that colour an element for a narrative label. */
export function colourClass(label) {
  return label === OTHER ? "other" : `n${colourIndex(label)}`;
}

export function hsl(label, s = 60, l = 52, a = 1) {
  if (label === OTHER) return `hsla(0, 0%, 60%, ${a})`;
  return `hsla(${HUES[colourIndex(label)]}, ${s}%, ${l}%, ${a})`;
}

/** The coarse label of a fine one: its parent, else the label minus its last part. */
export function parentOf(a) {
  if (a && a.parent) return String(a.parent);
  const label = String((a && a.label) || "");
  const i = label.lastIndexOf(": ");
  return i > 0 ? label.slice(0, i) : null;
}
