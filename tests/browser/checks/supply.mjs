// tests/browser/checks/supply.mjs — the supply pages: the landing page's recall, open
// investigation and recent activity; a recalled, dispensed unit showing its recall with its
// reason and its journey from commissioning to dispensing in order; the suspect unit's
// investigation; the lot's map of where its units are; the EPCIS 2.0 export.
//
// Uses what the supply part of `salus scenario` printed (t.scenario.supply): a lot of six units
// commissioned by the maker, four packed and shipped to the wholesaler, two of those shipped on
// to the pharmacy, one verified and dispensed, the other quarantined as suspect with a reason,
// then the lot recalled (FDA class II).

export default async function check(t) {
  const story = t.scenario.supply;
  t.assert(story && story.paths && story.lot, `the scenario printed no supply story: ${JSON.stringify(story)}`);
  const { gtin, lot, dispensed, suspect } = story;
  t.assert(story.recall && story.recall.class === "ClassII", `the scenario's recall: ${JSON.stringify(story.recall)}`);
  const recallReason = `Class II recall of lot ${lot}`;

  // The landing page: the recall among the current recalls, the open investigation with its
  // reason, the recent activity with the recall alert and transaction links.
  await t.visit(story.paths.landing, "supply-landing");
  await t.expectText("h1", "Supply");
  await t.expectText("main form label", "Serial");
  await t.expectText("main table td", `Lot ${lot}`);
  await t.expectText("main table td", "Class II");
  await t.expectText("main table td", story.suspect_reason);
  await t.expectText("main table td", "6 units of GTIN");
  const transactionLinks = await t.page.$$eval("main table a[href^='/ui/tx/']", (links) => links.length);
  t.assert(transactionLinks > 0, "the recent supply activity links no transaction");

  // The form opens the unit's page.
  await t.page.fill("input[name=serial]", dispensed);
  await t.page.fill("form[aria-label='Open a unit'] input[name=gtin]", gtin);
  await Promise.all([
    t.page.waitForURL(`**${story.paths.unit}`),
    t.page.click("form[aria-label='Open a unit'] button[type=submit]"),
  ]);

  // The recalled, dispensed unit: the word "Recalled" near the top with the recall's reason.
  await t.visit(story.paths.unit, "supply-unit-recalled");
  await t.expectText("h1", `Unit ${dispensed}`);
  await t.expectText("main .status.bad[data-recalled]", "Recalled");
  await t.expectText("main [data-recall]", recallReason);
  await t.expectText("main [data-recall]", "temporary or medically reversible adverse health consequences");
  // Its journey, in order: commissioned at the maker, packed, shipped to the wholesaler,
  // received, unpacked, shipped to the pharmacy, received, verified, dispensed; then the recall.
  const steps = await t.page.$$eval("ol.timeline > li", (items) => items.map((item) => item.dataset.step));
  const journey = [
    "commissioning",
    "packing",
    "shipping",
    "receiving",
    "unpacking",
    "shipping",
    "receiving",
    "verification",
    "dispensing",
    "recall",
  ];
  t.assert(
    JSON.stringify(steps) === JSON.stringify(journey),
    `the timeline is ${JSON.stringify(steps)}, not the journey ${JSON.stringify(journey)}`,
  );
  await t.expectText("ol.timeline > li[data-step=commissioning]", `GLN ${story.locations.maker}`);
  await t.expectText("ol.timeline > li[data-step=receiving]", `GLN ${story.locations.wholesaler}`);
  await t.expectText("ol.timeline > li[data-step=verification]", "Verified");
  await t.expectText("ol.timeline > li.ok[data-step=dispensing]", `GLN ${story.locations.pharmacy}`);
  await t.expectText("ol.timeline > li.bad[data-step=recall]", recallReason);
  // Owners as account links: the wholesaler appears as the buyer of the first shipment.
  const wholesalerLinks = await t.page.$$eval(
    `ol.timeline a[href="/ui/account/${story.wholesaler}"]`,
    (links) => links.length,
  );
  t.assert(wholesalerLinks > 0, "the timeline does not link the wholesaler's account");

  // The suspect unit: recalled too, its quarantine with the investigation's reason.
  await t.visit(story.paths.suspect_unit, "supply-unit-suspect");
  await t.expectText("main .status.bad[data-recalled]", "Recalled");
  await t.expectText("main .status", "Suspect");
  await t.expectText("ol.timeline > li.bad[data-step=holding]", story.suspect_reason);
  await t.expectText("main table td", story.suspect_reason);

  // The lot: where its units are — two at the pharmacy, two at the wholesaler, two at the
  // maker — as a chart and tables; every unit marked recalled.
  await t.visit(story.paths.lot, "supply-lot");
  await t.expectText("h1", `Lot ${lot}`);
  await t.expectText("main .status.bad[data-recalled]", "Recalled");
  const map = await t.page.$$eval("table[data-lot-map] tbody tr", (rows) =>
    rows.map((row) => [row.dataset.holder.toLowerCase(), Number(row.dataset.units)]),
  );
  const held = Object.fromEntries(map);
  for (const who of ["maker", "wholesaler", "pharmacy"]) {
    t.assert(held[story[who].toLowerCase()] === 2, `the lot map ${JSON.stringify(map)} does not show 2 units at the ${who}`);
  }
  await t.expectText("table[data-lot-map] td", `GLN ${story.locations.wholesaler}`);
  const chart = await t.page.$eval("svg[role=img] title", (title) => title.textContent);
  t.assert(chart.includes("2 units"), `the chart's title does not give the counts: ${chart}`);
  const recalledMarks = await t.page.$$eval("main table td .status.bad", (marks) => marks.filter((mark) => mark.textContent === "Recalled").length);
  t.assert(recalledMarks === story.serials.length, `${recalledMarks} units marked recalled of ${story.serials.length}`);

  // The unit's history downloads as an EPCIS 2.0 document.
  const response = await t.page.request.get(t.base + story.paths.export);
  t.assert(response.status() === 200, `the EPCIS export answered HTTP ${response.status()}`);
  const document = await response.json();
  t.assert(document.type === "EPCISDocument" && document.schemaVersion === "2.0", "the export is not an EPCIS 2.0 document");
  const bizSteps = document.epcisBody.eventList.map((event) => event.bizStep);
  t.assert(bizSteps[0] === "commissioning" && bizSteps.at(-1) === "dispensing", `the export's steps: ${JSON.stringify(bizSteps)}`);
}
