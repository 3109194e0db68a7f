// tests/browser/checks/coverage.mjs — the coverage pages: the landing page's overdue and due
// requests and recent activity; a denied preauthorization's trail with the reviewer's reason in
// words and its deadline clock; an appealed one overturned; the overdue one saying how late it is;
// the payer's CMS-0057-F metrics as accessible charts with the same figures in tables.
//
// Uses what the coverage part of `salus scenario` printed (t.scenario.coverage): five sealed
// requests — an expedited MRI approved by the payer's agent, two standard CTs pended by the
// agent and denied by the clinical reviewer with reason `DX` (one appealed and overturned by the
// payer), a standard CT left pended, an expedited CT left pended past its 72 hours and marked
// overdue — and the payer's per-code metrics post.

/** The reason the scenario's reviewer gives, as the payer's rule set words it. */
const DENIAL_REASON = "The diagnosis does not support the service";

export default async function check(t) {
  const story = t.scenario.coverage;
  t.assert(story && story.paths && story.requests, `the scenario printed no coverage story: ${JSON.stringify(story)}`);
  const { paths, requests } = story;

  // The landing page: the form, the overdue request among the overdue ones, the pended one due,
  // and the recent activity with transaction links.
  await t.visit(paths.landing, "coverage-landing");
  await t.expectText("h1", "Coverage");
  await t.expectText("main form label", "Preauthorization trace handle");
  await t.expectText("main table[data-open=overdue] td", "late");
  const overdueLinks = await t.page.$$eval("main table[data-open=overdue] a", (links) => links.map((link) => link.getAttribute("href")));
  t.assert(overdueLinks.includes(paths.overdue), `the overdue list does not link ${paths.overdue}: ${JSON.stringify(overdueLinks)}`);
  const dueLinks = await t.page.$$eval("main table[data-open=due] a", (links) => links.map((link) => link.getAttribute("href")));
  t.assert(dueLinks.includes(paths.pended), `the due list does not link the pended request ${paths.pended}: ${JSON.stringify(dueLinks)}`);
  t.assert(!dueLinks.includes(paths.denied), "a decided request is listed as due");
  await t.expectText("main table td", "Preauthorization marked overdue");
  const transactionLinks = await t.page.$$eval("main table a[href^='/ui/tx/']", (links) => links.length);
  t.assert(transactionLinks > 0, "the recent coverage activity links no transaction");

  // The form opens a preauthorization by its trace handle.
  await t.page.fill("input[name=preauth]", requests.denied);
  await Promise.all([t.page.waitForURL(`**${paths.denied}`), t.page.click("form:has(input[name=preauth]) button[type=submit]")]);

  // The denied request: submitted, pended by the agent (clinical review), denied by the reviewer
  // with its reason code and words; decided in time; commitments shown as such.
  await t.visit(paths.denied, "coverage-preauth-denied");
  await t.expectText("h1", "Preauthorization");
  const steps = await t.page.$$eval("ol.timeline > li", (items) => items.map((item) => item.dataset.step));
  t.assert(
    JSON.stringify(steps) === JSON.stringify(["submitted", "pended", "decided"]),
    `the denied request's trail: ${JSON.stringify(steps)}`,
  );
  await t.expectText("ol.timeline > li[data-step=pended]", "Sent to a clinical reviewer");
  await t.expectText("ol.timeline > li[data-step=decided] li[data-action=A3]", "not certified");
  await t.expectText("ol.timeline > li[data-step=decided] li[data-action=A3]", "DX");
  await t.expectText("ol.timeline > li[data-step=decided] li[data-action=A3]", DENIAL_REASON);
  const deniedClass = await t.page.$eval("ol.timeline > li[data-step=decided]", (item) => item.className);
  t.assert(deniedClass.includes("bad"), `the denial is not marked adverse: class "${deniedClass}"`);
  await t.expectText("main [data-deadline]", "Decided in time");
  await t.expectText("main dd", "7 calendar days");
  await t.expectText("main table caption", "Commitments on chain");
  await t.expectText("main p", "sealed to the payer and delivered off chain");

  // The appealed request: the denial, the appeal, and the payer overturning it.
  await t.visit(paths.appealed, "coverage-preauth-appealed");
  const appealSteps = await t.page.$$eval("ol.timeline > li", (items) => items.map((item) => item.dataset.step));
  t.assert(
    JSON.stringify(appealSteps) === JSON.stringify(["submitted", "pended", "decided", "appealed", "appeal-decided"]),
    `the appealed request's trail: ${JSON.stringify(appealSteps)}`,
  );
  await t.expectText("ol.timeline > li[data-step=appeal-decided]", "denial overturned");
  await t.expectText("ol.timeline > li[data-step=appeal-decided] li[data-action=A1]", "certified");

  // The overdue request: expedited, marked overdue on chain, and how late it is.
  await t.visit(paths.overdue, "coverage-preauth-overdue");
  await t.expectText("main dd", "72 hours");
  await t.expectText("main [data-deadline] .status.bad", "Overdue");
  await t.expectText("main [data-deadline]", "late");
  await t.expectText("main [data-deadline]", "marked overdue on chain");
  await t.expectText("ol.timeline > li[data-step=overdue]", "late");
  await t.expectText("ol.timeline > li[data-step=overdue]", "never approval");
  const lateText = await t.page.$eval("main [data-deadline]", (element) => element.textContent);
  t.assert(/\d+ (h|min|d)\b/.test(lateText), `the clock does not say how late: "${lateText}"`);

  // The pended request: its clock still running.
  await t.visit(paths.pended, null);
  await t.expectText("main [data-deadline]", "left");

  // The payer: approval and denial rates per priority as SVG charts with tables beside them,
  // the decision times, the per-code period figures, the rules and the reviewer.
  await t.visit(paths.payer, "coverage-payer");
  await t.expectText("h1", "Payer");
  await t.expectText("section[data-priority=expedited] [data-rate=approved]", "100.00 %");
  await t.expectText("section[data-priority=standard] [data-rate=denied]", "100.00 %");
  await t.expectText("section[data-priority=standard] td[data-figure='Approved after appeal']", "50.00 %");
  await t.expectText("section[data-priority=standard] td[data-figure='Median time to decision']", "6 h");
  const charts = await t.page.$$eval("svg[role=img]", (svgs) =>
    svgs.map((svg) => ({ title: svg.querySelector("title")?.textContent ?? "", bars: svg.querySelectorAll("rect").length, styled: svg.outerHTML.includes("style=") })),
  );
  t.assert(charts.length >= 4, `expected the rate and time charts of both priorities: ${JSON.stringify(charts)}`);
  t.assert(charts.every((chart) => chart.title.length > 0 && chart.bars > 0 && !chart.styled), `a chart without a title or bars, or styled: ${JSON.stringify(charts)}`);
  await t.expectText("main table td", "74177");
  // Every standard CT line was pended at its first decision (two were decided later by the
  // reviewer): the per-code count keeps all three.
  const standardCt = await t.page.$$eval("main table tr", (rows) =>
    rows
      .map((row) => Array.from(row.querySelectorAll("td"), (cell) => cell.textContent.trim()))
      .find((cells) => cells[0] === "74177" && cells[1] === "Standard"),
  );
  t.assert(
    standardCt && standardCt[2] === "3" && standardCt[3] === "3",
    `74177 Standard: 3 requested and 3 pended at first decision expected, got ${JSON.stringify(standardCt)}`,
  );
  await t.expectText("main table td", DENIAL_REASON);
  const reviewerLinks = await t.page.$$eval("main ul a", (links) => links.map((link) => link.getAttribute("href").toLowerCase()));
  t.assert(
    reviewerLinks.includes(`/ui/account/${story.reviewer.toLowerCase()}`),
    `the reviewer ${story.reviewer} is not listed: ${JSON.stringify(reviewerLinks)}`,
  );
}
