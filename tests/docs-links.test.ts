import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../harness/engine";

// Every relative link in the project's Markdown reaches a file that exists, and every `#anchor`
// a heading of that file (GitHub's rule: lower case, punctuation dropped, spaces to hyphens).

function markdownFiles(): string[] {
  const top = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md", "emulator/README.md"];
  const inFolder = (folder: string, nested = false) =>
    fs
      .readdirSync(path.join(repoRoot, folder), { withFileTypes: true })
      .flatMap((entry) =>
        nested && entry.isDirectory() && entry.name !== "node_modules"
          ? [`${folder}/${entry.name}/README.md`].filter((f) =>
              fs.existsSync(path.join(repoRoot, f)),
            )
          : entry.isFile() && entry.name.endsWith(".md")
            ? [`${folder}/${entry.name}`]
            : [],
      );
  return [...top, ...inFolder("docs"), ...inFolder("examples", true)];
}

/** The anchors GitHub gives a file's headings. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const withoutCode = text.replace(/^```[\s\S]*?^```/gm, "");
  for (const [, heading] of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  return out;
}

/** Relative links of a Markdown text, outside code blocks and code spans. */
function links(text: string): string[] {
  const prose = text.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target));
}

const files = markdownFiles();

test("the project's Markdown is found", () => {
  expect(files).toEqual(expect.arrayContaining(["README.md", "docs/security.md"]));
  expect(files.some((f) => f.startsWith("examples/"))).toBe(true);
});

test.each(files)("every relative link in %s resolves", (file) => {
  const text = fs.readFileSync(path.join(repoRoot, file), "utf8");
  const broken: string[] = [];
  for (const target of links(text)) {
    const [where, anchor] = target.split("#");
    const resolved = where
      ? path.join(path.dirname(path.join(repoRoot, file)), where)
      : path.join(repoRoot, file);
    if (!fs.existsSync(resolved)) {
      broken.push(`${target}: no such file`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!resolved.endsWith(".md")) {
      broken.push(`${target}: an anchor into a file that is not Markdown`);
      continue;
    }
    if (!anchors(fs.readFileSync(resolved, "utf8")).has(anchor)) {
      broken.push(`${target}: no heading with that anchor`);
    }
  }
  expect(broken).toEqual([]);
});

test("the anchor rule is GitHub's", () => {
  expect([...anchors("## The server's rules at preview\n## `getApiKeys`\n## A\n## A\n")]).toEqual([
    "the-servers-rules-at-preview",
    "getapikeys",
    "a",
    "a-1",
  ]);
  expect(links("see [x](docs/a.md#b), [y](https://example.com) and `[z](c.md)`")).toEqual([
    "docs/a.md#b",
  ]);
});
