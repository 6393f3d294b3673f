// The console's screens. One page, top to bottom in the order of the work: the API key, the
// campaign, the file and its column mapping, the call settings, the preview (what clients/sheet
// plans locally, then the server's dry run), the import with its progress and rejects file, and the
// campaign's calls. clients/sheet is imported module by module, never through its index, so that
// the workbook reader stays in its own chunk (see clients/sheet/file.ts).
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { DryRunPreview, ImportSummary, Reject } from "../sheet/answers";
import { ImportTally } from "../sheet/answers";
import { CALL_STATUSES, dedupeFieldOf, KNOWN_FIELDS, REQUIRED_BY_TYPE } from "../sheet/fields";
import type { KeySource } from "../sheet/idempotency";
import type { ImportPlan } from "../sheet/plan";
import { rejectsTable, toCsv } from "../sheet/rejects";
import { bulkEnvelope, sendParts } from "../sheet/send";
import { type Call, type Campaign, ConsoleApi, ConsoleApiError, type Named } from "./api";
import {
  addCounts,
  type CallCounts,
  CONSOLE_AGAIN,
  type ColumnChoice,
  columnRows,
  emptyCounts,
  type FileProblem,
  type LoadedFile,
  loadFile,
  planFor,
  problemOf,
  rejectsName,
  settledCalls,
  skippedTotal,
} from "./logic";

/** The key lives in sessionStorage: gone when the tab closes, never sent anywhere but this origin. */
const KEY_STORAGE = "bulkcall.apiKey";
/** How often an import's call progress is read while calls are still queued. */
const POLL_MS = 1_000;
/** Rows of errors shown in a preview; the rejects file has them all. */
const FIRST_ERRORS = 10;

const n = (value: number) => value.toLocaleString("en-US");
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function App() {
  const [apiKey, setApiKey] = useState(() => sessionStorage.getItem(KEY_STORAGE) ?? "");
  const api = useMemo(() => (apiKey ? new ConsoleApi(apiKey) : undefined), [apiKey]);
  const forget = () => {
    sessionStorage.removeItem(KEY_STORAGE);
    setApiKey("");
  };
  return (
    <>
      <header class="bar">
        <h1>bulkcall console</h1>
        {api && (
          <button type="button" class="secondary outline" onClick={forget}>
            Forget the key
          </button>
        )}
      </header>
      {api ? (
        <Workspace api={api} onKeyRefused={forget} />
      ) : (
        <KeyForm
          onKey={(key) => {
            sessionStorage.setItem(KEY_STORAGE, key);
            setApiKey(key);
          }}
        />
      )}
      <footer class="note">
        <a href="/docs">API reference</a>
      </footer>
    </>
  );
}

function KeyForm(props: { onKey: (key: string) => void }) {
  const [key, setKey] = useState("");
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem("");
    try {
      // A key is accepted once the API accepts it, so a typo is caught here and not at the import.
      await new ConsoleApi(key.trim()).campaigns();
      props.onKey(key.trim());
    } catch (error) {
      setProblem(message(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <article>
      <form onSubmit={submit}>
        <label>
          API key
          <input
            id="api-key"
            type="password"
            autocomplete="off"
            required
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
          <small>Kept for this browser tab only (session storage), sent only to this server.</small>
        </label>
        {problem && (
          <p role="alert" class="problem">
            {problem}
          </p>
        )}
        <button type="submit" id="open" aria-busy={busy} disabled={busy || key.trim() === ""}>
          Open
        </button>
      </form>
    </article>
  );
}

interface CallSettings {
  initiateCall: boolean;
  agentId: string;
  dispositionId: string;
}

interface DryRun {
  state: "unsupported" | "idle" | "running" | "done" | "failed";
  summary?: ImportSummary;
  firstErrors?: Reject[];
  preview?: DryRunPreview;
  problem?: string;
}

interface Run {
  state: "sending" | "watching" | "done";
  partsDone: number;
  parts: number;
  importIds: string[];
  calls?: CallCounts;
  summary?: ImportSummary;
  rejectsUrl?: string;
  rejectsName?: string;
  stopped?: string;
}

function Workspace(props: { api: ConsoleApi; onKeyRefused: () => void }) {
  const { api } = props;
  const [campaigns, setCampaigns] = useState<Campaign[]>();
  const [agents, setAgents] = useState<Named[]>([]);
  const [dispositions, setDispositions] = useState<Named[]>([]);
  const [dryRunSupported, setDryRunSupported] = useState<boolean>();
  const [loadProblem, setLoadProblem] = useState("");
  const [campaignId, setCampaignId] = useState("");

  const [file, setFile] = useState<File>();
  const [delimiter, setDelimiter] = useState("");
  const [sheetName, setSheetName] = useState("");
  const [loaded, setLoaded] = useState<LoadedFile>();
  const [fileProblem, setFileProblem] = useState<FileProblem>();
  const [reading, setReading] = useState(false);
  const [choices, setChoices] = useState<Map<number, ColumnChoice>>(new Map());
  const [settings, setSettings] = useState<CallSettings>({
    initiateCall: false,
    agentId: "",
    dispositionId: "",
  });
  const [dryRun, setDryRun] = useState<DryRun>({ state: "idle" });
  const [run, setRun] = useState<Run>();

  useEffect(() => {
    (async () => {
      try {
        const [list, agentList, dispositionList, supported] = await Promise.all([
          api.campaigns(),
          api.named("agents"),
          api.named("dispositions"),
          // The CLI's check: an API that does not document dryRun would ignore it and store the rows.
          api.client.bulkRequestHasField("dryRun"),
        ]);
        setCampaigns(list);
        setAgents(agentList);
        setDispositions(dispositionList);
        setDryRunSupported(supported);
        setSettings((s) => ({
          ...s,
          agentId: s.agentId || agentList[0]?.id || "",
          dispositionId: s.dispositionId || dispositionList[0]?.id || "",
        }));
      } catch (error) {
        if (error instanceof ConsoleApiError && error.status === 401) props.onKeyRefused();
        else setLoadProblem(message(error));
      }
    })();
  }, [api]);

  // Reading the file again when it, its delimiter or its sheet changes.
  useEffect(() => {
    if (!file) return;
    let current = true;
    setReading(true);
    setRun(undefined);
    loadFile(file, { delimiter: delimiter || undefined, sheet: sheetName || undefined })
      .then((result) => {
        if (!current) return;
        setLoaded(result);
        setFileProblem(undefined);
      })
      .catch((error) => {
        if (!current) return;
        setLoaded(undefined);
        setFileProblem(problemOf(error));
      })
      .finally(() => current && setReading(false));
    return () => {
      current = false;
    };
  }, [file, delimiter, sheetName]);

  const campaign = campaigns?.find((c) => c.id === campaignId);
  const planned = useMemo(
    () => (loaded && campaign ? planFor(loaded, campaign, choices, delimiter !== "") : undefined),
    [loaded, campaign, choices, delimiter],
  );
  const plan = planned?.ok ? planned.plan : undefined;
  const problem = fileProblem ?? (planned && !planned.ok ? planned.problem : undefined);

  // A dry run describes one plan and one set of settings: it is stale once either changes.
  useEffect(() => {
    setDryRun({ state: dryRunSupported === false ? "unsupported" : "idle" });
  }, [plan, settings, dryRunSupported]);

  const envelopeFor = (dry: boolean) =>
    bulkEnvelope({
      campaignId,
      initiateCall: settings.initiateCall,
      agentId: settings.initiateCall ? settings.agentId : undefined,
      dispositionId: settings.initiateCall ? settings.dispositionId : undefined,
      dryRun: dry,
    });

  const keySourceFor = (envelope: Record<string, unknown>): KeySource | undefined =>
    plan && loaded
      ? {
          fileSha256: loaded.sha256,
          sheet: loaded.read.sheetName,
          delimiter: loaded.read.delimiter,
          mapping: plan.mapping,
          envelope,
        }
      : undefined;

  const newTally = (importPlan: ImportPlan) => {
    const tally = new ImportTally(
      importPlan.rowsRead,
      importPlan.blankRows,
      dedupeFieldOf(campaign?.campaignType ?? "emi"),
      CONSOLE_AGAIN,
    );
    for (const reject of importPlan.refused)
      tally.rowProblem(reject.rowNumber, reject.code, reject.message, reject.field);
    return tally;
  };

  const startDryRun = async () => {
    const envelope = envelopeFor(true);
    const keySource = keySourceFor(envelope);
    if (!plan || !keySource || !dryRunSupported) return;
    setDryRun({ state: "running" });
    const tally = newTally(plan);
    let preview: DryRunPreview | undefined;
    const stopped = await sendParts({
      parts: plan.parts,
      envelope,
      keySource,
      api: api.client,
      tally,
      onAnswer: (_part, answer) => {
        if (!answer.preview) return;
        preview = addPreview(preview, answer.preview);
      },
    });
    const summary = tally.summary();
    setDryRun({
      state: stopped ? "failed" : "done",
      summary,
      preview,
      firstErrors: tally.rejectList().slice(0, FIRST_ERRORS),
      problem: stopped ? summary.parts.find((p) => p.state === "failed")?.error : undefined,
    });
  };

  const startImport = async () => {
    const envelope = envelopeFor(false);
    const keySource = keySourceFor(envelope);
    if (!plan || !keySource || !loaded) return;
    const tally = newTally(plan);
    const importIds: string[] = [];
    let state: Run = { state: "sending", partsDone: 0, parts: plan.parts.length, importIds };
    setRun(state);
    const stopped = await sendParts({
      parts: plan.parts,
      envelope,
      keySource,
      api: api.client,
      tally,
      onAnswer: (_part, answer) => importIds.push(answer.importId),
      onDone: (report) => {
        state = { ...state, partsDone: report.number };
        setRun(state);
      },
    });
    const rejects = tally.rejectList();
    let rejectsUrl: string | undefined;
    if (rejects.length > 0) {
      const csv = toCsv(rejectsTable(loaded.read.sheet, rejects), {
        delimiter: loaded.read.format === "csv" ? (loaded.read.delimiter ?? ",") : ",",
        bom: loaded.read.format === "xlsx" || loaded.read.bom === true,
      });
      rejectsUrl = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
    }
    state = {
      ...state,
      state: settings.initiateCall && importIds.length > 0 ? "watching" : "done",
      summary: tally.summary(),
      rejectsUrl,
      rejectsName: rejectsName(loaded.name),
      stopped,
    };
    setRun(state);
  };

  // The calls' progress, read from every part's import until nothing is queued any more.
  useEffect(() => {
    if (run?.state !== "watching") return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const poll = async () => {
      try {
        let total = emptyCounts();
        for (const id of run.importIds) total = addCounts(total, await api.importCalls(id));
        if (!live) return;
        const finished = total.queued === 0;
        setRun((r) => r && { ...r, calls: total, state: finished ? "done" : "watching" });
        if (!finished) timer = setTimeout(poll, POLL_MS);
      } catch {
        if (live) timer = setTimeout(poll, POLL_MS * 5);
      }
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [run?.state, run?.importIds]);

  // Leaving the page while parts are being sent would leave rows neither loaded nor in a rejects file.
  useEffect(() => {
    if (run?.state !== "sending") return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    addEventListener("beforeunload", warn);
    return () => removeEventListener("beforeunload", warn);
  }, [run?.state]);

  const chooseFile = (next: File | undefined) => {
    if (!next) return;
    setDelimiter("");
    setSheetName("");
    setChoices(new Map());
    setLoaded(undefined);
    setFileProblem(undefined);
    setFile(next);
  };

  if (loadProblem) {
    return (
      <p role="alert" class="problem">
        {loadProblem}
      </p>
    );
  }
  if (!campaigns) return <p aria-busy="true">Loading campaigns…</p>;

  const busy = run?.state === "sending" || dryRun.state === "running";
  const settingsReady = !settings.initiateCall || (settings.agentId !== "" && settings.dispositionId !== "");

  return (
    <>
      <article>
        <label>
          Campaign
          <select
            id="campaign"
            value={campaignId}
            disabled={busy}
            onChange={(e) => setCampaignId(e.currentTarget.value)}
          >
            <option value="">Choose a campaign…</option>
            {campaigns.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.id}, {c.campaignType})
              </option>
            ))}
          </select>
          {campaign && (
            <small>
              Needs the columns {REQUIRED_BY_TYPE[campaign.campaignType].join(", ")}
              {campaign.callingWindow
                ? `; calls ${campaign.callingWindow.start}–${campaign.callingWindow.end} ${campaign.timezone}`
                : ""}
              .
            </small>
          )}
        </label>
        <FileDrop disabled={busy} onFile={chooseFile} />
        {file && (
          <p class="note" id="file-info">
            {file.name} · {n(file.size)} bytes
            {loaded?.read.format === "csv" &&
              ` · delimiter "${loaded.read.delimiter === "\t" ? "tab" : loaded.read.delimiter}"${loaded.read.delimiterDetected ? " (detected)" : ""}`}
            {loaded?.read.format === "xlsx" && ` · sheet "${loaded.read.sheetName}"`}
            {reading && " · reading…"}
          </p>
        )}
        {file && (
          <SourceChoice
            file={file}
            loaded={loaded}
            problem={problem}
            {...{ delimiter, setDelimiter, sheetName, setSheetName, busy }}
          />
        )}
        {problem && (
          <p role="alert" class="problem" id="problem" data-code={problem.code}>
            <span id="problem-message">{problem.message}</span>
            <br />
            <small>Nothing was sent.</small>
          </p>
        )}
      </article>

      {loaded && campaign && (
        <MappingEditor loaded={loaded} choices={choices} setChoices={setChoices} disabled={busy} />
      )}

      {plan && campaign && (
        <article>
          <h2>Preview</h2>
          <div class="grid-2">
            <LocalPreview plan={plan} />
            <ServerPreview dryRun={dryRun} onStart={startDryRun} disabled={busy || !settingsReady} />
          </div>
          <fieldset>
            <label>
              <input
                type="checkbox"
                role="switch"
                aria-checked={settings.initiateCall}
                id="initiate-call"
                checked={settings.initiateCall}
                disabled={busy}
                onChange={(e) => setSettings({ ...settings, initiateCall: e.currentTarget.checked })}
              />
              Call every customer that is added
            </label>
            {settings.initiateCall && (
              <div class="grid">
                <NamedSelect
                  label="Agent"
                  id="agent"
                  items={agents}
                  value={settings.agentId}
                  onChange={(agentId) => setSettings({ ...settings, agentId })}
                />
                <NamedSelect
                  label="Disposition"
                  id="disposition"
                  items={dispositions}
                  value={settings.dispositionId}
                  onChange={(dispositionId) => setSettings({ ...settings, dispositionId })}
                />
              </div>
            )}
          </fieldset>
          <button
            type="button"
            id="import"
            disabled={busy || !settingsReady || plan.parts.length === 0 || run?.state === "watching"}
            aria-busy={run?.state === "sending"}
            onClick={startImport}
          >
            Import {n(plan.parts.reduce((sum, part) => sum + part.records.length, 0))} rows
            {plan.parts.length > 1 ? ` in ${plan.parts.length} requests` : ""}
            {settings.initiateCall ? " and call them" : ""}
          </button>
        </article>
      )}

      {run && <RunView run={run} />}

      {campaign && <CallsBrowser api={api} campaignId={campaign.id} refresh={run?.state} />}
    </>
  );
}

function addPreview(total: DryRunPreview | undefined, more: DryRunPreview): DryRunPreview {
  if (!total) return { ...more, skipped: { ...more.skipped } };
  const skipped = { ...total.skipped };
  for (const [reason, count] of Object.entries(more.skipped))
    skipped[reason] = (skipped[reason] ?? 0) + count;
  const times = [total.firstCallAt, more.firstCallAt].filter((t): t is string => t !== null).sort();
  return { wouldCall: total.wouldCall + more.wouldCall, skipped, firstCallAt: times[0] ?? null };
}

function FileDrop(props: { disabled: boolean; onFile: (file: File | undefined) => void }) {
  const [over, setOver] = useState(false);
  return (
    <label
      class={`drop${over ? " over" : ""}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        if (!props.disabled) props.onFile(e.dataTransfer?.files[0]);
      }}
    >
      Drop a CSV or XLSX file here, or choose one
      <input
        id="file"
        type="file"
        accept=".csv,.tsv,.txt,.xlsx,.xlsm,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        disabled={props.disabled}
        onChange={(e) => props.onFile(e.currentTarget.files?.[0])}
      />
    </label>
  );
}

const DELIMITERS: [string, string][] = [
  ["", "detect"],
  [",", ", (comma)"],
  [";", "; (semicolon)"],
  ["\t", "tab"],
  ["|", "| (pipe)"],
];

function SourceChoice(props: {
  file: File;
  loaded: LoadedFile | undefined;
  problem: FileProblem | undefined;
  delimiter: string;
  setDelimiter: (d: string) => void;
  sheetName: string;
  setSheetName: (s: string) => void;
  busy: boolean;
}) {
  const { loaded, problem } = props;
  const isWorkbook =
    loaded?.read.format === "xlsx" ||
    ["several_sheets", "unknown_sheet"].includes(problem?.code ?? "") ||
    /\.xls[xm]$/i.test(props.file.name);
  if (isWorkbook) {
    // The sheet names come from the workbook once read; a workbook refused for having several
    // sheets lists them in its message, and any name typed here is tried.
    const names = loaded?.read.sheetNames ?? [];
    return (
      <label htmlFor="sheet">
        Sheet
        {names.length > 1 ? (
          <select
            id="sheet"
            value={props.sheetName || loaded?.read.sheetName}
            disabled={props.busy}
            onChange={(e) => props.setSheetName(e.currentTarget.value)}
          >
            {names.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        ) : (
          <input
            id="sheet"
            placeholder="name or number of the sheet"
            value={props.sheetName}
            disabled={props.busy}
            onChange={(e) => props.setSheetName(e.currentTarget.value.trim())}
          />
        )}
      </label>
    );
  }
  return (
    <label>
      Delimiter
      <select
        id="delimiter"
        value={props.delimiter}
        disabled={props.busy}
        onChange={(e) => props.setDelimiter(e.currentTarget.value)}
      >
        {DELIMITERS.map(([value, label]) => (
          <option key={label} value={value}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}

function MappingEditor(props: {
  loaded: LoadedFile;
  choices: Map<number, ColumnChoice>;
  setChoices: (choices: Map<number, ColumnChoice>) => void;
  disabled: boolean;
}) {
  const rows = columnRows(props.loaded.read, props.choices);
  const choose = (index: number, choice: ColumnChoice) => {
    const next = new Map(props.choices);
    next.set(index, choice);
    props.setChoices(next);
  };
  return (
    <article>
      <h2>Column mapping</h2>
      <p class="note">
        Headers are matched to the record fields ignoring case, spaces, underscores and hyphens; every other
        column becomes an agent variable named by its header.
      </p>
      <div class="overflow-auto">
        <table id="mapping">
          <thead>
            <tr>
              <th>Column</th>
              <th>First value</th>
              <th>Sent as</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.index} data-header={row.header}>
                <td>{row.header || <em>(no header)</em>}</td>
                <td class="sample">{row.sample}</td>
                <td>
                  {row.ignored ? (
                    <span class="note">left out (a column of an earlier rejects file)</span>
                  ) : (
                    <select
                      aria-label={`Field for column ${row.header}`}
                      value={row.choice}
                      disabled={props.disabled}
                      onChange={(e) => choose(row.index, e.currentTarget.value as ColumnChoice)}
                    >
                      <option value="" disabled={row.matched !== undefined}>
                        agent variable “{row.header.trim()}”
                      </option>
                      {KNOWN_FIELDS.map((field) => (
                        <option key={field} value={field}>
                          {field}
                        </option>
                      ))}
                    </select>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </article>
  );
}

function LocalPreview(props: { plan: ImportPlan }) {
  const { plan } = props;
  const sending = plan.parts.reduce((sum, part) => sum + part.records.length, 0);
  return (
    <section id="local-preview">
      <h3>In this file</h3>
      <dl class="counts">
        <dt>rows read</dt>
        <dd data-testid="rows-read">{n(plan.rowsRead)}</dd>
        <dt>blank rows skipped</dt>
        <dd data-testid="blank-rows">{n(plan.blankRows)}</dd>
        <dt>rows to send</dt>
        <dd data-testid="to-send">{n(sending)}</dd>
        <dt>refused before sending</dt>
        <dd data-testid="refused">{n(plan.refused.length)}</dd>
        <dt>requests</dt>
        <dd data-testid="requests">{n(plan.parts.length)}</dd>
      </dl>
      <ErrorList rejects={plan.refused.slice(0, FIRST_ERRORS)} total={plan.refused.length} />
    </section>
  );
}

function ServerPreview(props: { dryRun: DryRun; onStart: () => void; disabled: boolean }) {
  const { dryRun } = props;
  if (dryRun.state === "unsupported") {
    return (
      <section id="server-preview" data-state="unsupported">
        <h3>On the server</h3>
        <p class="note">
          This server does not support a dry run (its bulk request has no "dryRun" field), and would store the
          rows: the server judges them when you import.
        </p>
      </section>
    );
  }
  const summary = dryRun.summary;
  const byCode = summary
    ? Object.entries(summary.rejectedByCode)
        .map(([code, count]) => `${code} ${n(count)}`)
        .join(", ")
    : "";
  return (
    <section id="server-preview" data-state={dryRun.state}>
      <h3>On the server (dry run: nothing is written)</h3>
      {summary && (
        <dl class="counts">
          <dt>would add</dt>
          <dd data-testid="would-add">{n(summary.added)}</dd>
          <dt>would reject</dt>
          <dd data-testid="would-reject">
            {n(summary.rejected)}
            {byCode && ` (${byCode})`}
          </dd>
          {dryRun.preview && (
            <>
              <dt>would call</dt>
              <dd data-testid="would-call">{n(dryRun.preview.wouldCall)}</dd>
              <dt>would skip</dt>
              <dd data-testid="would-skip">
                {Object.entries(dryRun.preview.skipped)
                  .map(([reason, count]) => `${reason} ${n(count)}`)
                  .join(", ") || "none"}
              </dd>
              <dt>first call</dt>
              <dd data-testid="first-call">
                {dryRun.preview.firstCallAt ? new Date(dryRun.preview.firstCallAt).toLocaleString() : "none"}
              </dd>
            </>
          )}
        </dl>
      )}
      {dryRun.problem && (
        <p role="alert" class="problem">
          {dryRun.problem}
        </p>
      )}
      {dryRun.firstErrors && <ErrorList rejects={dryRun.firstErrors} total={summary?.rejected ?? 0} />}
      <button
        type="button"
        id="dry-run"
        class="secondary"
        disabled={props.disabled}
        aria-busy={dryRun.state === "running"}
        onClick={props.onStart}
      >
        {dryRun.state === "done" || dryRun.state === "failed" ? "Check again" : "Check with the server"}
      </button>
    </section>
  );
}

function ErrorList(props: { rejects: readonly Reject[]; total: number }) {
  if (props.rejects.length === 0) return null;
  return (
    <details open>
      <summary>
        First {props.rejects.length < props.total ? `${props.rejects.length} of ${n(props.total)}` : ""}{" "}
        errors
      </summary>
      <ul class="errors">
        {props.rejects.map((reject) => (
          <li key={`${reject.rowNumber}-${reject.code}`}>
            row {reject.rowNumber}: {reject.code}
            {reject.field ? ` (${reject.field})` : ""}: {reject.message}
          </li>
        ))}
      </ul>
    </details>
  );
}

function NamedSelect(props: {
  label: string;
  id: string;
  items: Named[];
  value: string;
  onChange: (id: string) => void;
}) {
  return (
    <label>
      {props.label}
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.items.length === 0 && <option value="">none defined</option>}
        {props.items.map((item) => (
          <option key={item.id} value={item.id}>
            {item.name} ({item.id})
          </option>
        ))}
      </select>
    </label>
  );
}

function RunView(props: { run: Run }) {
  const { run } = props;
  const summary = run.summary;
  const calls = run.calls;
  const settled = calls ? settledCalls(calls) : 0;
  const percent = calls && calls.requested > 0 ? Math.floor((settled / calls.requested) * 100) : 0;
  return (
    <article id="run" data-state={run.state}>
      <h2>Import</h2>
      <label>
        Requests
        <div class="progress-line">
          <progress id="parts-progress" value={run.partsDone} max={Math.max(run.parts, 1)} />
          <output>
            {run.partsDone} / {run.parts}
          </output>
        </div>
      </label>
      {calls && (
        <label>
          Calls dispatched or skipped
          <div class="progress-line">
            <progress id="calls-progress" value={settled} max={Math.max(calls.requested, 1)} />
            <output id="calls-percent">{percent} %</output>
          </div>
          <small id="calls-counts">
            {n(calls.requested)} requested: {n(calls.dispatched)} dispatched, {n(calls.completed)} completed,{" "}
            {n(skippedTotal(calls))} skipped
            {skippedTotal(calls) > 0 &&
              ` (${Object.entries(calls.skipped)
                .map(([reason, count]) => `${reason} ${n(count)}`)
                .join(", ")})`}
            , {n(calls.failed)} failed, {n(calls.queued)} queued, {n(calls.delayed)} waiting for the calling
            window
          </small>
        </label>
      )}
      {summary && (
        <dl class="counts" id="summary">
          <dt>rows read</dt>
          <dd data-testid="summary-read">{n(summary.rowsRead)}</dd>
          <dt>added</dt>
          <dd data-testid="summary-added">
            {n(summary.added)}
            {summary.addedEarlier ? ` (${n(summary.addedEarlier)} by an earlier import of this file)` : ""}
          </dd>
          <dt>rejected</dt>
          <dd data-testid="summary-rejected">
            {n(summary.rejected)}
            {summary.rejected > 0 &&
              ` (${Object.entries(summary.rejectedByCode)
                .map(([code, count]) => `${code} ${n(count)}`)
                .join(", ")})`}
          </dd>
        </dl>
      )}
      {run.stopped && (
        <p role="alert" class="problem">
          {run.stopped.charAt(0).toUpperCase()}
          {run.stopped.slice(1)} The rejects file lists every row that was not loaded and why; {CONSOLE_AGAIN}{" "}
          to finish (no row is loaded twice).
        </p>
      )}
      {run.rejectsUrl && (
        <a id="rejects" class="download" href={run.rejectsUrl} download={run.rejectsName}>
          Download the rejects file ({run.rejectsName})
        </a>
      )}
      {summary && !run.rejectsUrl && <p class="note">Every row was loaded: no rejects file.</p>}
    </article>
  );
}

function CallsBrowser(props: { api: ConsoleApi; campaignId: string; refresh: string | undefined }) {
  const [status, setStatus] = useState("");
  const [calls, setCalls] = useState<Call[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState("");
  const generation = useRef(0);

  const load = async (from: string | null) => {
    const mine = ++generation.current;
    try {
      const page = await props.api.calls(props.campaignId, status, from);
      if (mine !== generation.current) return;
      setCalls((previous) => (from ? [...previous, ...page.data] : page.data));
      setCursor(page.nextCursor);
      setProblem("");
    } catch (error) {
      if (mine === generation.current) setProblem(message(error));
    }
  };
  useEffect(() => {
    void load(null);
  }, [props.campaignId, status, props.refresh]);

  return (
    <article id="calls">
      <header class="bar">
        <h2>Calls</h2>
        <div class="progress-line">
          <select
            id="call-status"
            aria-label="Status"
            value={status}
            onChange={(e) => setStatus(e.currentTarget.value)}
          >
            <option value="">every status</option>
            {CALL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <button type="button" class="secondary outline" onClick={() => load(null)}>
            Refresh
          </button>
        </div>
      </header>
      {problem && (
        <p role="alert" class="problem">
          {problem}
        </p>
      )}
      <div class="overflow-auto">
        <table>
          <thead>
            <tr>
              <th>Key</th>
              <th>Phone</th>
              <th>Status</th>
              <th>Reason</th>
              <th>Attempts</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody id="call-rows">
            {calls.map((call) => (
              <tr key={call.callId} data-status={call.status}>
                <td>{call.loan_id ?? call.lead_id}</td>
                <td>{call.phone_number}</td>
                <td>{call.status}</td>
                <td>{call.reason ?? call.disposition ?? ""}</td>
                <td>{call.attempts}</td>
                <td>{new Date(call.updatedAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {calls.length === 0 && <p class="note">No calls{status ? ` with status ${status}` : ""}.</p>}
      {cursor && (
        <button type="button" class="secondary outline" onClick={() => load(cursor)}>
          More
        </button>
      )}
    </article>
  );
}
