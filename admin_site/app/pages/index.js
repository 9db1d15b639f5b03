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
import recall from "./recall.js";
import distribution from "./distribution.js";
import customers from "./customers.js";
import segments from "./segments.js";
import { campaignDashboard, campaignReview } from "./campaign_review.js";

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
  campaignDashboard,
  campaignReview,
];
