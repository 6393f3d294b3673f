// The curl commands of a Markdown file's shell code blocks (```sh, ```bash, ```shell), read the way
// a POSIX shell would read them so that the README's examples are checked as a reader runs them:
// quotes, backslash-newline continuations, comments, here-documents (skipped), and variables
// assigned earlier in the same block ($NAME, ${NAME}; unknown variables, and variables assigned a
// `$(…)`, stay as written). The commands inside a `$(…)` are read too (`ID=$(curl … | json .id)`
// is a curl command), while the `$(…)` itself stays as written in the word that holds it. Pipes,
// `;`, `&&` and `||` end a command.

export interface CurlCommand {
  /** 1-based line of the README where the command starts. */
  line: number;
  method: string;
  url: string;
  /** The -d / --data / --data-raw / --data-binary / --json argument, as the shell passes it. */
  data?: string;
}

const FENCE = /^```(sh|bash|shell)\s*$/;

/** Options of curl that take a value, so that the value is not read as the URL. */
const WITH_VALUE = new Set([
  "-H",
  "--header",
  "-X",
  "--request",
  "-d",
  "--data",
  "--data-raw",
  "--data-binary",
  "--data-urlencode",
  "--json",
  "-o",
  "--output",
  "-w",
  "--write-out",
  "-u",
  "--user",
  "-F",
  "--form",
  "-A",
  "--user-agent",
  "-e",
  "--referer",
  "-b",
  "--cookie",
  "-m",
  "--max-time",
  "--connect-timeout",
  "--retry",
]);
const DATA = new Set(["-d", "--data", "--data-raw", "--data-binary", "--json"]);

export function curlCommands(markdown: string): CurlCommand[] {
  const lines = markdown.split("\n");
  const found: CurlCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i] ?? "")) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? "")) end++;
    for (const command of shellCommands(lines.slice(start, end).join("\n"))) {
      const curl = readCurl(command.words);
      if (curl) found.push({ line: start + 1 + command.line, ...curl });
    }
    i = end;
  }
  return found;
}

function readCurl(words: string[]): Omit<CurlCommand, "line"> | undefined {
  if (words[0] !== "curl") return undefined;
  let method: string | undefined;
  let url: string | undefined;
  let data: string | undefined;
  for (let i = 1; i < words.length; i++) {
    const word = words[i] as string;
    const [option, inline] = word.startsWith("--") && word.includes("=") ? word.split(/=(.*)/s) : [word];
    if (option !== undefined && WITH_VALUE.has(option)) {
      const value = inline ?? words[++i];
      if (option === "-X" || option === "--request") method = value;
      if (DATA.has(option)) data = value;
    } else if (!word.startsWith("-") && url === undefined) {
      url = word;
    }
  }
  if (url === undefined) return undefined;
  return { method: (method ?? (data === undefined ? "GET" : "POST")).toUpperCase(), url, data };
}

/**
 * The commands of a shell script, each as its words after quote removal and expansion, and the
 * commands of every `$(…)` in it (before the command that holds it). `outer`: the variables a
 * `$(…)` sees from its script.
 */
export function shellCommands(
  script: string,
  outer: ReadonlyMap<string, string> = new Map(),
): { line: number; words: string[] }[] {
  const vars = new Map<string, string>(outer);
  const commands: { line: number; words: string[] }[] = [];
  let words: string[] = [];
  let word: string | undefined;
  let line = 0;
  let commandLine = 0;
  let heredoc: string | undefined;
  let i = 0;

  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) {
      const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(words[0] ?? "");
      if (assignment && words.length === 1) {
        // A command's output is not known here: the variable stays as written where it is used.
        if ((assignment[2] as string).includes("$(")) vars.delete(assignment[1] as string);
        else vars.set(assignment[1] as string, assignment[2] as string);
      } else commands.push({ line: commandLine, words });
    }
    words = [];
  };
  const append = (text: string) => {
    if (word === undefined && words.length === 0) commandLine = line;
    word = (word ?? "") + text;
  };
  /** Expands the `$…` at `i`; returns the index after it. */
  const expand = (at: number): [string, number] => {
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(script.slice(at));
    const plain = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(script.slice(at));
    const name = braced?.[1] ?? plain?.[1];
    const length = (braced ?? plain)?.[0].length;
    if (name !== undefined && length !== undefined) return [vars.get(name) ?? `$${name}`, at + length];
    if (script[at + 1] === "(") {
      // The matching parenthesis, skipping quoted text (a JSON body may hold one).
      let depth = 0;
      let j = at + 1;
      for (; j < script.length; j++) {
        const q = script[j];
        if (q === "'" || q === '"') {
          const close = script.indexOf(q, j + 1);
          j = close === -1 ? script.length : close;
        } else if (q === "(") depth++;
        else if (q === ")" && --depth === 0) break;
      }
      const inner = script.slice(at + 2, j);
      for (const command of shellCommands(inner, vars)) {
        commands.push({ line: line + command.line, words: command.words });
      }
      return [script.slice(at, j + 1), j + 1];
    }
    return ["$", at + 1];
  };

  while (i < script.length) {
    const c = script[i] as string;
    if (c === "\n") {
      endCommand();
      line++;
      i++;
      if (heredoc !== undefined) {
        // Skip the here-document's lines up to its delimiter line.
        const rest = script.slice(i).split("\n");
        const at = rest.findIndex((l) => l.trim() === heredoc);
        const skipped = at === -1 ? rest.length : at + 1;
        for (let k = 0; k < skipped; k++) i += (rest[k]?.length ?? 0) + 1;
        line += skipped;
        heredoc = undefined;
      }
    } else if (c === " " || c === "\t") {
      endWord();
      i++;
    } else if (c === "\\") {
      if (script[i + 1] === "\n") line++;
      else append(script[i + 1] ?? "");
      i += 2;
    } else if (c === "'") {
      const close = script.indexOf("'", i + 1);
      const end = close === -1 ? script.length : close;
      const text = script.slice(i + 1, end);
      append(text);
      line += text.split("\n").length - 1;
      i = end + 1;
    } else if (c === '"') {
      append("");
      i++;
      while (i < script.length && script[i] !== '"') {
        const d = script[i] as string;
        if (d === "\\" && '"\\$`\n'.includes(script[i + 1] ?? "")) {
          if (script[i + 1] === "\n") line++;
          else append(script[i + 1] as string);
          i += 2;
        } else if (d === "$") {
          const [text, next] = expand(i);
          append(text);
          i = next;
        } else {
          if (d === "\n") line++;
          append(d);
          i++;
        }
      }
      i++;
    } else if (c === "$") {
      const [text, next] = expand(i);
      append(text);
      i = next;
    } else if (c === "#" && word === undefined) {
      while (i < script.length && script[i] !== "\n") i++;
    } else if (c === ";" || c === "|" || c === "&") {
      endCommand();
      i += script[i + 1] === c ? 2 : 1;
    } else if (c === "<" && script[i + 1] === "<" && word === undefined) {
      const marker = /^<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(script.slice(i));
      if (marker) {
        heredoc = marker[2];
        i += marker[0].length;
      } else {
        append("<<");
        i += 2;
      }
    } else {
      append(c);
      i++;
    }
  }
  endCommand();
  return commands;
}
