// Every page of the site, in navigation order. To add a page: write a module in this
// folder that exports a page object (see signin.js for the smallest one), import it
// here, and add its strings to both catalogues in i18n/. A page object has:
//   id       unique name; pages with the same `section` light up that nav entry
//   path     hash route, with :params ("/orders/:orderId")
//   title    catalogue key of the page title
//   nav      catalogue key of its navigation label (omit to keep it out of the nav)
//   roles    who may open it (session.HQ, MANAGER, STAFF); the API checks again
//   public   true for the sign-in page only
//   render(ctx) -> Promise<Element>; ctx has params, query, navigate, rerender, every
import audit from "./audit.js";
import catalogue from "./catalogue.js";
import coupons from "./coupons.js";
import dashboard from "./dashboard.js";
import loyalty, { memberPoints } from "./loyalty.js";
import members, { memberProfile, memberQrCodes } from "./members.js";
import mall from "./mall.js";
import orderDetail from "./order_detail.js";
import paidPlans from "./paid_plans.js";
import orders from "./orders.js";
import printMonitor from "./print_monitor.js";
import programme from "./programme.js";
import promotions from "./promotions.js";
import returns from "./returns.js";
import search from "./search.js";
import signin from "./signin.js";
import staff from "./staff.js";
import storeEdit from "./store_edit.js";
import storedValue from "./stored_value.js";
import stores from "./stores.js";
import tagRules from "./tag_rules.js";
import wallet from "./wallet.js";
import storeTiers from "./store_tiers.js";
import recall from "./recall.js";
import distribution from "./distribution.js";
import customers from "./customers.js";
import segments from "./segments.js";
import calendar from "./calendar.js";
import campaigns, { campaignEditor } from "./campaigns.js";

// The navigation's groups, in order, and the pages each holds (a page object may also
// say `group` itself; pages of no group are left out of the nav). The nav shows the
// groups as tabs and the current group's pages below them: at tablet width a flat list
// of 30 pages would take five lines.
export const NAV_GROUPS = [
  { id: "operations", label: "navgroup.operations", pages: ["dashboard", "orders", "returns", "print", "subscription-deliveries"] },
  { id: "stores", label: "navgroup.stores", pages: ["stores", "store-tiers", "staff"] },
  { id: "catalogue", label: "navgroup.catalogue", pages: ["catalogue"] },
  {
    id: "marketing",
    label: "navgroup.marketing",
    pages: [
      "calendar",
      "campaigns",
      "promotions",
      "coupons",
      "zones",
      "group-buys",
      "lotteries",
      "subscriptions",
    ],
  },
  {
    id: "members",
    label: "navgroup.members",
    pages: ["members", "wallet", "customers", "segments", "tag-rules", "recall", "distribution"],
  },
  {
    id: "loyalty",
    label: "navgroup.loyalty",
    pages: ["loyalty", "programme", "paid_plans", "mall", "stored_value"],
  },
  { id: "system", label: "navgroup.system", pages: ["audit"] },
];

/** The nav group a page belongs to (by its own `group`, or the list above). */
export function groupOf(page) {
  if (!page) return null;
  const id = page.section || page.id;
  return page.group || NAV_GROUPS.find((g) => g.pages.includes(id))?.id || null;
}

/** The nav pages of a group, in the group's order then the pages' order. */
export function pagesOf(group) {
  const listed = group.pages
    .map((id) => PAGES.find((p) => p.id === id && p.nav))
    .filter(Boolean);
  const own = PAGES.filter((p) => p.nav && p.group === group.id && !group.pages.includes(p.id));
  return [...listed, ...own];
}
import { campaignDashboard, campaignReview } from "./campaign_review.js";
import { subscriptionDeliveries, subscriptionPlans } from "./subscriptions.js";
import lotteries, { lotteryDetail } from "./lotteries.js";
import groupBuys from "./group_buys.js";
import zones from "./zones.js";
import { abusePage } from "./promotion_limits.js";
import { promotionReport, supplierSettlements, templateReport } from "./effect_reports.js";

export const PAGES = [
  dashboard,
  orders,
  orderDetail,
  returns,
  printMonitor,
  stores,
  storeEdit,
  catalogue,
  staff,
  coupons,
  wallet,
  members,
  memberQrCodes,
  memberProfile,
  customers,
  segments,
  tagRules,
  storedValue,
  promotions,
  loyalty,
  memberPoints,
  programme,
  paidPlans,
  mall,
  recall,
  audit,
  search,
  signin,
  distribution,
  calendar,
  campaigns,
  campaignEditor,
  storeTiers,
  campaignDashboard,
  campaignReview,
  // subscription delivery (周期购, issue 17)
  subscriptionPlans,
  subscriptionDeliveries,
  lotteries,
  lotteryDetail,
  groupBuys,
  zones,
  abusePage,
  // effect reports and supplier settlement (issue 18 item 6)
  promotionReport,
  templateReport,
  supplierSettlements,
];
