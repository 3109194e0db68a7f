// tests/browser/checks/chain.mjs — the chain pages: a transfer appearing live (pending, then
// mined) on the home and transaction pages without a reload, a block, search, an account, the
// node's status, and the error pages of searches that find nothing.
//
// Asks the test that runs it (node/tests/it/console_browser.rs) for:
//   READY-FOR-TRANSFER → a signed transfer of whole units to a fresh address, submitted, not
//                        mined: {"hash": "0x…", "from": "0x…", "to": "0x…",
//                                "amount": "<in the smallest unit>"}
//   READY-FOR-MINING   → one block mined (it includes the transfer):
//                        {"number": N, "hash": "0x…"}

/** How long the live pages get to show a mined block. */
const LIVE_DEADLINE_MS = 20_000;

/** Smallest units in one whole unit of the native token (the console writes whole units). */
const SMALLEST_PER_UNIT = 10n ** 18n;

/** The console's words for an amount of whole units given in the smallest unit: "42 units". */
function wholeUnits(smallest) {
  const amount = BigInt(smallest);
  if (amount % SMALLEST_PER_UNIT !== 0n) {
    throw new Error(`the transfer's amount ${smallest} is not a whole number of units`);
  }
  const whole = amount / SMALLEST_PER_UNIT;
  return `${whole.toLocaleString("en-US")} unit${whole === 1n ? "" : "s"}`;
}

/** Waits until the page's script has subscribed to new heads, and marks the window. */
async function subscribed(t, page, what) {
  await t.waitFor(
    `${what} subscribed to new heads (html[data-live="subscribed"])`,
    () => document.documentElement.dataset.live === "subscribed",
    null,
    { page },
  );
  // A reload would drop this: its presence later shows the page changed in place.
  await page.evaluate(() => {
    window.salusSameDocument = true;
  });
}

async function notReloaded(t, page, what) {
  const same = await page.evaluate(() => window.salusSameDocument === true);
  t.assert(same, `${what} was reloaded: it must update in place`);
}

export default async function check(t) {
  const home = t.page;

  // The home page, live: subscribed before anything happens.
  await t.visit("/ui/", null);
  await t.expectText("h1", "The chain");
  await subscribed(t, home, "the home page");
  await t.expectText("[data-live-state]", "live");

  // A transfer, pending: its page says so.
  const transfer = JSON.parse(await t.ask("READY-FOR-TRANSFER"));
  t.assert(
    /^0x[0-9a-f]{64}$/.test(transfer.hash),
    `READY-FOR-TRANSFER answered no hash: ${JSON.stringify(transfer)}`,
  );
  const row = `tr[data-transaction="${transfer.hash}"]`;
  const transferText = `Transfer of ${wholeUnits(transfer.amount)} to`;
  t.assert(
    (await home.$(row)) === null,
    "the pending transfer is listed among the mined transactions before any block",
  );
  const pending = await t.newPage();
  await t.visit(`/ui/tx/${transfer.hash}`, "transaction-pending", { page: pending });
  await t.expectText("h1", "Pending transaction", { page: pending });
  await t.expectText("[data-status]", "Pending", { page: pending });
  await t.expectText("main dd", transferText, { page: pending });
  await subscribed(t, pending, "the pending transaction's page");

  // One block mined: both pages show it without a reload.
  const block = JSON.parse(await t.ask("READY-FOR-MINING"));
  t.assert(
    Number.isSafeInteger(block.number),
    `READY-FOR-MINING answered no block number: ${JSON.stringify(block)}`,
  );
  await t.expectText(row, transferText, { timeout: LIVE_DEADLINE_MS });
  await t.expectText(`${row} a[href="/ui/block/${block.number}"]`, `#${block.number}`);
  await notReloaded(t, home, "the home page");
  await t.expectText("[data-head-number]", `#${block.number}`);
  await t.audit("home");

  await t.expectText("[data-status]", "Success", { page: pending, timeout: LIVE_DEADLINE_MS });
  await t.expectText("h1", "Transaction", { page: pending });
  await t.expectText(`main dd a[href="/ui/block/${block.number}"]`, `#${block.number}`, {
    page: pending,
  });
  await notReloaded(t, pending, "the transaction's page");
  await t.audit("transaction", { page: pending });
  await pending.close();

  // The block: its hash, and the transfer in its list, succeeded.
  await t.visit(`/ui/block/${block.number}`, "block");
  await t.expectText("h1", `Block #${block.number}`);
  await t.expectText("main dl.fields dd.mono", block.hash);
  const listed = `main table tr:has(a[href="/ui/tx/${transfer.hash}"])`;
  await t.expectText(listed, transferText);
  await t.expectText(listed, "Success");

  // Search from the form in the navigation: a transaction hash leads to the transaction.
  const searchBox = home.getByRole("searchbox", { name: "Search" });
  await searchBox.fill(transfer.hash);
  await Promise.all([home.waitForURL(`**/ui/tx/${transfer.hash}`), searchBox.press("Enter")]);
  await t.expectText("h1", "Transaction");
  await t.audit(null);

  // Search by block number, block hash, address (any case): each lands on its page.
  await t.visit(`/ui/search?q=${block.number}`, null);
  t.assert(
    home.url().endsWith(`/ui/block/${block.number}`),
    `searching ${block.number} led to ${home.url()}`,
  );
  await t.visit(`/ui/search?q=${block.hash.toUpperCase().replace("0X", "0x")}`, null);
  t.assert(
    home.url().endsWith(`/ui/block/${block.hash}`),
    `searching the block hash led to ${home.url()}`,
  );
  await t.expectText("h1", `Block #${block.number}`);
  await t.visit(`/ui/search?q=${transfer.to}`, "account");
  t.assert(
    home.url().endsWith(`/ui/account/${transfer.to.toLowerCase()}`),
    `searching ${transfer.to} led to ${home.url()}`,
  );
  await t.expectText("main dd", wholeUnits(transfer.amount));

  // Searches that find nothing say why.
  await t.visit("/ui/search?q=99999999", "search-not-found", { status: 404 });
  await t.expectText("main .error", "no block #99999999 yet");
  await t.visit("/ui/search?q=patient", null, { status: 400 });
  await t.expectText("main .error", "is not a block number");

  // The node.
  await t.visit("/ui/status", "status");
  await t.expectText("h1", "Node status");
  await t.expectText("main dd", "dev chain");
  await t.expectText(`main dd a[href="/ui/block/${block.number}"]`, `#${block.number}`);
}
