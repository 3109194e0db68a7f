// The Salus console in a real browser: runs every check module in checks/*.mjs (in name order,
// each in a fresh browser context and page) in headless Chromium against a running node, saving
// a screenshot of each page visited and running axe-core's accessibility rules on it.
//
//   node console.mjs --base http://127.0.0.1:PORT --scenario scenario.json --screenshots DIR
//       [--only NAME[,NAME]]
//
// `scenario.json` is what `salus scenario` printed (parts not built yet are null). Chromium is
// Debian's (SALUS_CHROMIUM, default /usr/bin/chromium), driven by playwright-core, which brings
// no browser of its own. Exit status 0 when every check passed, 1 when any failed (each failure
// names its module, page and check; the other modules still run), 2 when the run could not start.
//
// Requests to whoever runs this (node/tests/it/console_browser.rs): `t.ask(REQUEST)` prints
// REQUEST alone on a line of stdout and waits for one line on stdin, the answer.
//
// Accessibility and the content security policy: the pages are checked with their CSP on (a
// violation, which Chromium reports as a console error naming the Content Security Policy, fails
// the page), and axe-core is brought in by evaluating its source through the DevTools protocol
// (`page.evaluate`, i.e. Runtime.evaluate). The CSP governs what the page loads and runs, not
// what the debugger evaluates, so no CSP bypass (`bypassCSP`, a second context) is needed and
// the page the checks see is the page a visitor gets.

import { readFile, readdir, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The browser's window: what the screenshots show. */
const VIEWPORT = { width: 1280, height: 800 };
/** Longest wait for a page to load, or for text to appear (a check may ask for longer). */
const DEFAULT_TIMEOUT_MS = 15_000;
/** Longest wait for an answer on stdin. */
const ANSWER_TIMEOUT_MS = 30_000;
/** Longest a check module may run: past it, it fails and the next one runs. */
const MODULE_TIMEOUT_MS = 90_000;
/**
 * Chromium's switches: headless, no sandbox (root in CI), and nothing that reaches for the
 * network (the machine's network is closed; without these Chromium stalls on start-up calls).
 */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/**
 * axe-core's rules: WCAG 2.0 and 2.1, levels A and AA (labels, contrast, names, lang, …), and
 * from its best practices the heading rules (order, one h1, none empty) and one main landmark.
 */
const AXE_OPTIONS = {
  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  rules: {
    "heading-order": { enabled: true },
    "page-has-heading-one": { enabled: true },
    "empty-heading": { enabled: true },
    "landmark-one-main": { enabled: true },
  },
  resultTypes: ["violations"],
};

/** A check that did not hold: its message is the report. */
class CheckFailure extends Error {}

function usage(message) {
  console.error(`console.mjs: ${message}`);
  console.error(
    "usage: node console.mjs --base http://127.0.0.1:PORT --scenario scenario.json --screenshots DIR [--only NAME[,NAME]]",
  );
  process.exit(2);
}

function parseArguments(argv) {
  const options = {};
  for (let index = 0; index < argv.length; index += 2) {
    const name = argv[index];
    const value = argv[index + 1];
    if (!["--base", "--scenario", "--screenshots", "--only"].includes(name)) {
      usage(`unknown argument ${name}`);
    }
    if (value === undefined) usage(`${name} needs a value`);
    options[name.slice(2)] = value;
  }
  for (const required of ["base", "scenario", "screenshots"]) {
    if (!options[required]) usage(`--${required} is required`);
  }
  options.base = options.base.replace(/\/+$/, "");
  return options;
}

/** Lines read from stdin, handed out one per `next()`. */
class Answers {
  constructor() {
    this.lines = [];
    this.waiting = [];
    this.closed = false;
    this.reader = null;
  }

  start() {
    if (this.reader) return;
    this.reader = createInterface({ input: process.stdin });
    this.reader.on("line", (line) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(line);
      else this.lines.push(line);
    });
    this.reader.on("close", () => {
      this.closed = true;
      for (const waiter of this.waiting.splice(0)) waiter.reject(new Error("stdin closed"));
    });
  }

  next(timeoutMs) {
    this.start();
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift());
    if (this.closed) return Promise.reject(new Error("stdin closed"));
    return new Promise((resolvePromise, rejectPromise) => {
      const waiter = { resolve: resolvePromise, reject: rejectPromise };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        rejectPromise(new Error(`no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      waiter.resolve = (line) => {
        clearTimeout(timer);
        resolvePromise(line);
      };
      waiter.reject = (error) => {
        clearTimeout(timer);
        rejectPromise(error);
      };
      this.waiting.push(waiter);
    });
  }

  stop() {
    this.reader?.close();
  }
}

/** What a page reported that no page should: CSP violations and uncaught script errors. */
function watch(page, problems) {
  page.on("console", (message) => {
    const text = message.text();
    if (
      message.type() === "error" &&
      (text.startsWith("Refused to") || text.includes("Content Security Policy"))
    ) {
      problems.push(`content security policy violation on ${page.url()}: ${text}`);
    }
  });
  page.on("pageerror", (error) => {
    problems.push(`script error on ${page.url()}: ${error.message}`);
  });
}

/** axe-core's violations as lines: rule, what it asks, and the first elements at fault. */
function describeViolations(violations) {
  return violations
    .map((violation) => {
      const targets = violation.nodes
        .slice(0, 3)
        .map(
          (node) =>
            `${node.target.join(" ")}${node.failureSummary ? ` (${node.failureSummary.replace(/\s+/g, " ").trim()})` : ""}`,
        );
      const more = violation.nodes.length > 3 ? ` and ${violation.nodes.length - 3} more` : "";
      return `  - ${violation.id} [${violation.impact}]: ${violation.help}: ${targets.join("; ")}${more}`;
    })
    .join("\n");
}

/**
 * The API a check module gets. Every method that touches a page takes `{ page }` to act on
 * another page of the module (from `t.newPage()`); the default is `t.page`.
 */
class Checks {
  constructor({ name, base, scenario, screenshots, taken, context, page, axeSource, answers }) {
    /** The module's name (its file name without `.mjs`). */
    this.module = name;
    /** The node's base URL (`http://127.0.0.1:PORT`). */
    this.base = base;
    /** What `salus scenario` printed: `t.scenario.consent`, `.supply`, `.coverage` (or null). */
    this.scenario = scenario;
    /** The Playwright Page the module starts with. */
    this.page = page;
    this.context = context;
    this.screenshots = screenshots;
    /** Every screenshot name used in this run (a name is used once). */
    this.taken = taken;
    this.axeSource = axeSource;
    this.answers = answers;
    this.problems = [];
    /** Screenshots saved, and pages audited, by this module. */
    this.saved = [];
    this.audited = 0;
    watch(page, this.problems);
  }

  /** Fails the check with `message` unless `condition` holds. */
  assert(condition, message) {
    if (!condition) throw new CheckFailure(message);
  }

  /** Another page in the module's browser context, watched like `t.page`. */
  async newPage() {
    const page = await this.context.newPage();
    watch(page, this.problems);
    return page;
  }

  /**
   * Opens `path` (below the base URL) and waits for it to load; fails on an HTTP status of 400
   * or more (or other than `status` when given, for pages that must refuse), then audits it
   * (`t.audit`): CSP, axe-core, and a screenshot `screenshotName`.png unless that is null.
   * Redirects are followed. Returns the final response.
   */
  async visit(path, screenshotName, { page = this.page, status } = {}) {
    const response = await page.goto(this.base + path, {
      waitUntil: "load",
      timeout: DEFAULT_TIMEOUT_MS,
    });
    this.assert(response, `${path}: no response`);
    const answered = response.status();
    if (status === undefined) {
      this.assert(answered < 400, `${path}: answered HTTP ${answered}: ${await mainText(page)}`);
    } else {
      this.assert(
        answered === status,
        `${path}: answered HTTP ${answered}, not ${status}: ${await mainText(page)}`,
      );
    }
    await this.audit(screenshotName, { page });
    return response;
  }

  /**
   * Checks the page as it is now (after a live update, a form): no CSP violation or script
   * error so far, no axe-core violation; then saves a full-page screenshot `screenshotName`.png
   * unless that is null.
   */
  async audit(screenshotName, { page = this.page } = {}) {
    this.assertNoProblems();
    const hasAxe = await page.evaluate(() => typeof window.axe === "object");
    if (!hasAxe) await page.evaluate(this.axeSource);
    const violations = await page.evaluate(
      (options) => window.axe.run(document, options).then((result) => result.violations),
      AXE_OPTIONS,
    );
    this.audited += 1;
    this.assert(
      violations.length === 0,
      `${pathOf(page)}: ${violations.length} accessibility violation(s) (axe-core):\n${describeViolations(violations)}`,
    );
    this.assertNoProblems();
    if (screenshotName) await this.screenshot(screenshotName, { page });
  }

  /** Saves a full-page screenshot of the page as `name`.png. */
  async screenshot(name, { page = this.page } = {}) {
    this.assert(
      /^[a-z0-9][a-z0-9-]*$/.test(name),
      `screenshot name "${name}": use lowercase letters, digits and -`,
    );
    this.assert(!this.taken.has(name), `screenshot name "${name}" is used twice in this run`);
    this.taken.add(name);
    const path = join(this.screenshots, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    this.saved.push(basename(path));
  }

  /**
   * Waits (up to `timeout` ms) until an element matching `selector` contains `substring` (after
   * collapsing white space); fails naming what the matching elements say instead.
   */
  async expectText(selector, substring, { page = this.page, timeout = DEFAULT_TIMEOUT_MS } = {}) {
    try {
      await page.waitForFunction(
        ([selector, substring]) =>
          [...document.querySelectorAll(selector)].some((element) =>
            element.textContent.replace(/\s+/g, " ").includes(substring),
          ),
        [selector, substring],
        { timeout, polling: 100 },
      );
    } catch (error) {
      if (!error.name?.includes("TimeoutError") && !/Timeout/.test(error.message)) throw error;
      const found = await page
        .$$eval(selector, (elements) =>
          elements.map((element) => element.textContent.replace(/\s+/g, " ").trim()),
        )
        .catch(() => []);
      const seen =
        found.length === 0
          ? "no element matches it"
          : `it says ${found
              .slice(0, 5)
              .map((text) => JSON.stringify(text.slice(0, 200)))
              .join(", ")}${found.length > 5 ? ", …" : ""}`;
      throw new CheckFailure(
        `${pathOf(page)}: expected "${substring}" in ${selector}, but ${seen}`,
      );
    }
  }

  /**
   * Waits (up to `timeout` ms) until `predicate(arg)`, evaluated in the page, is truthy; fails
   * with `what` (what was waited for) otherwise. Returns the predicate's value.
   */
  async waitFor(what, predicate, arg, { page = this.page, timeout = DEFAULT_TIMEOUT_MS } = {}) {
    try {
      const handle = await page.waitForFunction(predicate, arg, { timeout, polling: 100 });
      return await handle.jsonValue();
    } catch (error) {
      if (!/Timeout/.test(error.message)) throw error;
      throw new CheckFailure(`${pathOf(page)}: ${what}: not within ${timeout / 1000} s`);
    }
  }

  /**
   * Asks whoever runs the checks for something (e.g. `READY-FOR-TRANSFER`): prints `request`
   * alone on a line of stdout and returns the line answered on stdin.
   */
  async ask(request, { timeout = ANSWER_TIMEOUT_MS } = {}) {
    this.assert(/^[A-Z][A-Z-]*$/.test(request), `request "${request}": use capitals and -`);
    console.log(request);
    try {
      return (await this.answers.next(timeout)).trim();
    } catch (error) {
      throw new CheckFailure(
        `${request}: ${error.message} (run by node/tests/it/console_browser.rs, which answers)`,
      );
    }
  }

  assertNoProblems() {
    if (this.problems.length > 0) {
      throw new CheckFailure(this.problems.splice(0).join("\n"));
    }
  }
}

/** The page's path and query, for messages. */
function pathOf(page) {
  try {
    const url = new URL(page.url());
    return url.pathname + url.search;
  } catch {
    return page.url();
  }
}

/** What the page's `<main>` says, shortened (for an error page's reason). */
async function mainText(page) {
  const text = await page
    .$eval("main", (main) => main.innerText.replace(/\s+/g, " ").trim())
    .catch(() => "(no <main>)");
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  let scenario;
  try {
    scenario = JSON.parse(await readFile(options.scenario, "utf8"));
  } catch (error) {
    usage(`the scenario ${options.scenario} is not readable JSON: ${error.message}`);
  }
  const screenshots = resolve(options.screenshots);
  await mkdir(screenshots, { recursive: true });
  const axeSource = await readFile(require.resolve("axe-core/axe.min.js"), "utf8");

  const checksDir = join(here, "checks");
  let modules = (await readdir(checksDir)).filter((file) => file.endsWith(".mjs")).sort();
  if (options.only) {
    const only = options.only.split(",").map((name) => name.replace(/\.mjs$/, ""));
    modules = modules.filter((file) => only.includes(file.replace(/\.mjs$/, "")));
  }
  if (modules.length === 0) usage(`no check modules to run in ${checksDir}`);

  const executablePath = process.env.SALUS_CHROMIUM || "/usr/bin/chromium";
  let browser;
  try {
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 30_000 });
  } catch (error) {
    console.error(`console.mjs: Chromium (${executablePath}) did not start: ${error.message}`);
    console.error("console.mjs: scripts/test.sh installs it (scripts/lib/browser.sh)");
    process.exit(2);
  }
  console.log(
    `Chromium ${browser.version()} (${executablePath}), base ${options.base}, screenshots in ${screenshots}`,
  );

  const answers = new Answers();
  const taken = new Set();
  const failures = [];
  const started = Date.now();
  for (const file of modules) {
    const name = file.replace(/\.mjs$/, "");
    const moduleStarted = Date.now();
    const context = await browser.newContext({ viewport: VIEWPORT });
    context.setDefaultTimeout(DEFAULT_TIMEOUT_MS);
    const page = await context.newPage();
    const t = new Checks({
      name,
      base: options.base,
      scenario,
      screenshots,
      taken,
      context,
      page,
      axeSource,
      answers,
    });
    try {
      const { default: check } = await import(pathToFileURL(join(checksDir, file)).href);
      if (typeof check !== "function")
        throw new CheckFailure("exports no default function check(t)");
      let timer;
      const overdue = new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new CheckFailure(`did not finish within ${MODULE_TIMEOUT_MS / 1000} s`)),
          MODULE_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([check(t), overdue]);
      } finally {
        clearTimeout(timer);
      }
      t.assertNoProblems();
      const seconds = ((Date.now() - moduleStarted) / 1000).toFixed(1);
      console.log(
        `PASS ${name} (${seconds} s; ${t.audited} page(s) audited; screenshots: ${t.saved.join(", ") || "none"})`,
      );
    } catch (error) {
      const where = pathOf(t.page);
      const message = error instanceof CheckFailure ? error.message : `${error.stack || error}`;
      failures.push(name);
      console.log(`FAIL ${name} (last page ${where}):\n${message.replace(/^/gm, "    ")}`);
      await t.screenshot(`failed-${name}`).catch(() => {});
    } finally {
      await context.close().catch(() => {});
    }
  }
  answers.stop();
  await browser.close();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `Console checks: ${modules.length - failures.length} of ${modules.length} module(s) passed in ${seconds} s` +
      (failures.length > 0 ? `; failed: ${failures.join(", ")}` : ""),
  );
  process.exit(failures.length > 0 ? 1 : 0);
}

await main();
