// tests/browser/checks/consent.mjs — the consent pages: recent consent activity with a denied
// access and its reason, the patient's timeline of consent status changes (granted, revoked),
// provisions in words, the delegation, the break-glass session's review state, the denied
// access's reason in the accesses table and its filter, and the CSV export.
//
// Uses what the consent part of `salus scenario` printed (t.scenario.consent): the patient,
// the consents granted and revoked, the break-glass session, the refused access and its reason.

export default async function check(t) {
  const story = t.scenario.consent;
  // The console writes addresses in lower case.
  const patient = story?.patient?.toLowerCase();
  t.assert(story && story.patient, "the scenario printed no consent story (t.scenario.consent)");
  const reason = story.refused_reason;
  t.assert(typeof reason === "string" && reason.length > 0, `the scenario printed no refusal reason: ${JSON.stringify(story)}`);

  // The landing page: the form to open a patient's page, and the recent events in words — the
  // refused access among them, with the contract's reason.
  await t.visit("/ui/consent", "consent-landing");
  await t.expectText("h1", "Consent");
  await t.expectText("main label", "Patient's pseudonymous address");
  await t.expectText("tr[data-event=AccessRecorded]", "denied");
  await t.expectText("tr[data-event=AccessRecorded]", reason);
  await t.expectText("tr[data-event=ConsentChanged]", "revoked");
  await t.expectText("tr[data-event=BreakGlass]", "justified");

  // The form opens the patient's page.
  await t.page.fill("#consent-patient", story.patient);
  await Promise.all([t.page.waitForURL(`**${story.paths.patient}`), t.page.click("form.filters button[type=submit]")]);

  // The patient's page.
  await t.visit(story.paths.patient, "consent-patient");
  await t.expectText("h1", "Patient");
  // The timeline: the consent granted, the second one granted then revoked; the denied access
  // with its reason; the break-glass review.
  await t.expectText("ol.timeline li", `Consent #${story.consent} granted: status active`);
  await t.expectText("ol.timeline li", `Consent #${story.revoked_consent} revoked: status inactive`);
  await t.expectText("ol.timeline li.bad", `denied: ${reason}`);
  await t.expectText("ol.timeline li.ok", "reviewed: justified");
  await t.expectText("ol.timeline li", "Delegation to");
  // The consent's provisions in words: a permit for treatment, a deny on a blinded label.
  const consent = `section[data-consent="${story.consent}"]`;
  await t.expectText(`${consent} ol.provisions li`, "Permit access and use by");
  await t.expectText(`${consent} ol.provisions li`, "for treatment (TREAT)");
  await t.expectText(`${consent} ol.provisions li`, "Deny any action by anyone for any purpose, records carrying 1 security label");
  await t.expectText(`section[data-consent="${story.revoked_consent}"] ol.changes li`, "revoked: inactive");
  // The delegation and the break-glass session with its review state.
  await t.expectText("main table td", "healthcare power of attorney (HPOWATT)");
  await t.expectText(`tr[data-session="${story.session}"] td.review`, "reviewed: justified");
  // The denied access shows its reason in the accesses table.
  await t.expectText("tr[data-decision=denied] td.reason", reason);
  await t.expectText("tr[data-decision=permitted] td.reason", "permitted");
  // The accounting needs the patient's proof: the page says so and names the command.
  await t.expectText("main p", "answers only the patient or a delegate who proves their key");
  await t.expectText("main pre", `salus fhir export audit --patient ${patient}`);

  // Filtered to denials: only refused accesses are left (the scenario's, one per run).
  await t.visit(`${story.paths.patient}?decision=denied`, "consent-patient-denied");
  const decisions = await t.page.$$eval("table.accesses tbody tr", (rows) => rows.map((row) => row.dataset.decision));
  t.assert(
    decisions.length >= 1 && decisions.every((decision) => decision === "denied"),
    `the denied filter shows ${JSON.stringify(decisions)}`,
  );
  await t.expectText("tr[data-decision=denied] td.reason", reason);

  // The CSV export carries the refusal and its reason.
  const response = await t.page.request.get(`${t.base}${story.paths.patient}/accesses.csv?decision=denied`);
  t.assert(response.status() === 200, `the CSV export answered HTTP ${response.status()}`);
  const csv = await response.text();
  t.assert(csv.split("\n")[0].startsWith("sequence,time,block,requester"), `the CSV has no header: ${csv.slice(0, 200)}`);
  t.assert(csv.includes(`"denied","${reason}"`), `the CSV lacks the denial and its reason: ${csv}`);
}
