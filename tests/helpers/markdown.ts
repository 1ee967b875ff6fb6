/** Reading a page of docs/ in tests: one `## ` section of it, up to the next. */
export function sectionOf(doc: string, title: string, page: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`${page} has no section "${title}"`);
  const end = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}
