/*
 * Agent console: the queue, the claimed shopper's chat and a close button.
 *
 * Plain JavaScript, no build step. Talks to the agent desk routes of the web chat
 * channel with the agent's bearer token, which is typed in and kept in sessionStorage
 * only (gone when the tab closes). Everything a shopper wrote is rendered with
 * textContent, never as HTML, so a message can't inject markup into the console.
 *
 * The token goes only to the desk API named by the page itself (the desk-api meta tag,
 * written by the server that serves the console), never to an address taken from the
 * page's URL: a crafted link would otherwise send the agent's token to anyone.
 */
(function () {
  "use strict";

  // --- strings ---------------------------------------------------------------------------
  // The console's newer texts, one plain table per language like the widget's (written as
  // JSON, read by tests/webchat/test_webchat_languages.py: every language has the keys of
  // "en", none empty, with the same {placeholders}). The language is the page's <html lang>
  // (agent.html: en), else English.
  // strings-begin
  var STRINGS = {
    "en": {
      "seconds": "{n} s",
      "minutes": "{n} min",
      "hours": "{h} h {m} min",
      "chat_deleted_title": "Chat closed: the shopper deleted the conversation",
      "chat_deleted": "The shopper deleted this conversation. The chat is closed and its messages are gone.",
      "pressed_button": "(button)",
      "payload_human_handoff": "Talk to a person",
      "payload_affirm": "Yes",
      "payload_deny": "No",
      "payload_no_order_number": "It's not about an order",
      "payload_other": "Button: {name}"
    },
    "sv": {
      "seconds": "{n} s",
      "minutes": "{n} min",
      "hours": "{h} tim {m} min",
      "chat_deleted_title": "Chatten är stängd: kunden raderade konversationen",
      "chat_deleted": "Kunden har raderat den här konversationen. Chatten är stängd och meddelandena är borta.",
      "pressed_button": "(knapp)",
      "payload_human_handoff": "Prata med en person",
      "payload_affirm": "Ja",
      "payload_deny": "Nej",
      "payload_no_order_number": "Det gäller ingen order",
      "payload_other": "Knapp: {name}"
    },
    "fi": {
      "seconds": "{n} s",
      "minutes": "{n} min",
      "hours": "{h} t {m} min",
      "chat_deleted_title": "Chat suljettu: asiakas poisti keskustelun",
      "chat_deleted": "Asiakas poisti tämän keskustelun. Chat on suljettu ja sen viestit on poistettu.",
      "pressed_button": "(painike)",
      "payload_human_handoff": "Keskustele ihmisen kanssa",
      "payload_affirm": "Kyllä",
      "payload_deny": "Ei",
      "payload_no_order_number": "Asia ei koske tilausta",
      "payload_other": "Painike: {name}"
    },
    "nb": {
      "seconds": "{n} s",
      "minutes": "{n} min",
      "hours": "{h} t {m} min",
      "chat_deleted_title": "Chatten er lukket: kunden slettet samtalen",
      "chat_deleted": "Kunden har slettet denne samtalen. Chatten er lukket, og meldingene er borte.",
      "pressed_button": "(knapp)",
      "payload_human_handoff": "Snakk med en person",
      "payload_affirm": "Ja",
      "payload_deny": "Nei",
      "payload_no_order_number": "Det gjelder ikke en ordre",
      "payload_other": "Knapp: {name}"
    }
  };
  // strings-end

  var LANG = (function (tag) {
    var code = String(tag || "").trim().toLowerCase().split(/[-_]/)[0];
    if (code === "no" || code === "nn") { code = "nb"; }
    return Object.prototype.hasOwnProperty.call(STRINGS, code) ? code : "en";
  })(document.documentElement.getAttribute("lang"));

  // A string of the console's language; {name} placeholders filled from `values`.
  function t(key, values) {
    var text = STRINGS[LANG][key] || STRINGS.en[key];
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  var TOKEN_KEY = "agentDeskToken";
  var QUEUE_POLL_MS = 2000;
  var RATINGS_POLL_MS = 60000;
  var CHAT_POLL_MS = 1500;

  var meta = document.querySelector('meta[name="desk-api"]');
  var API = ((meta && meta.content) || "/webhooks/webchat/agent").replace(/\/+$/, "");

  var state = { token: null, agent: null, selected: null, timers: [], lastChat: "" };

  function $(id) { return document.getElementById(id); }

  function setStatus(text) { $("status").textContent = text || ""; }

  function api(method, path, body) {
    var options = { method: method, headers: { Authorization: "Bearer " + state.token } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(API + path, options).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (resp.status === 401) { signOut("Your token was not accepted."); }
        if (!resp.ok) {
          var fallback = resp.status === 413 ? "The message is too long." : "HTTP " + resp.status;
          var error = new Error(data.error || fallback);
          error.status = resp.status;
          throw error;
        }
        return data;
      });
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // How long a shopper waited, in whole units: "13 s", "2 min", "1 h 5 min" (it read
  // "0:13 min", minutes and seconds run together behind a unit that fitted neither).
  function duration(seconds) {
    var s = Math.max(0, Math.floor(seconds || 0)), m = Math.floor(s / 60);
    if (s < 60) { return t("seconds", { n: s }); }
    if (m < 60) { return t("minutes", { n: m }); }
    return t("hours", { h: Math.floor(m / 60), m: m % 60 });
  }

  function time(epoch) {
    return new Date(epoch * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // --- signing in and out ------------------------------------------------------------

  function signIn(token) {
    state.token = token;
    return api("GET", "/me").then(function (data) {
      state.agent = data.agent;
      sessionStorage.setItem(TOKEN_KEY, token);
      $("agent-name").textContent = data.agent;
      $("sign-in-form").hidden = true;
      $("signed-in").hidden = false;
      $("desk").hidden = false;
      setStatus("");
      startPolling();
    }).catch(function (err) {
      if (err.status !== 401) { setStatus("Cannot reach the agent desk: " + err.message); }
    });
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.timers.forEach(clearInterval);
    state.timers = [];
    state.token = null;
    state.agent = null;
    state.selected = null;
    $("sign-in-form").hidden = false;
    $("signed-in").hidden = true;
    $("desk").hidden = true;
    setStatus(message || "");
  }

  function startPolling() {
    refreshQueue();
    refreshRatings();
    state.timers.push(setInterval(refreshQueue, QUEUE_POLL_MS));
    state.timers.push(setInterval(refreshRatings, RATINGS_POLL_MS));
    state.timers.push(setInterval(refreshChat, CHAT_POLL_MS));
  }

  // --- my ratings: what shoppers said after my chats (last 30 days) -----------------------

  function ratingsPanel() {
    var panel = $("my-ratings");
    if (panel) { return panel; }
    panel = el("details", "");
    panel.id = "my-ratings";
    panel.appendChild(el("summary", "", "My ratings (last 30 days)"));
    var summary = el("p", "");
    summary.id = "my-ratings-summary";
    var comments = el("ul", "");
    comments.id = "my-ratings-comments";
    panel.appendChild(summary);
    panel.appendChild(comments);
    $("queue-panel").appendChild(panel);
    return panel;
  }

  function refreshRatings() {
    ratingsPanel();
    api("GET", "/ratings").then(function (data) {
      var text = data.ratings
        ? data.ratings + " rating" + (data.ratings === 1 ? "" : "s") + ", average " +
          Number(data.average).toFixed(2) + " of 5 (" +
          [5, 4, 3, 2, 1].map(function (n) { return n + ": " + (data.distribution[String(n)] || 0); }).join(", ") + ")"
        : "No ratings yet.";
      $("my-ratings-summary").textContent = text;
      var list = $("my-ratings-comments");
      while (list.firstChild) { list.removeChild(list.firstChild); }
      (data.comments || []).forEach(function (c) {
        list.appendChild(el("li", "comment", c.day + " \u00b7 " + c.rating + "/5: " + c.comment));
      });
    }).catch(function (err) { setStatus("Ratings not updated: " + err.message); });
  }

  // --- the queue ---------------------------------------------------------------------

  function field(parent, label, value) {
    if (value === null || value === undefined || value === "") { return; }
    parent.appendChild(el("span", "meta", label + ": " + value + "  "));
  }

  // Request kinds agents must tell apart at a glance (topics set by the bot's flows,
  // handover/store.py COMPLAINT and ERASURE); any other topic is a plain handover.
  var KIND_LABELS = { complaint: "Complaint", erasure: "Erasure request (privacy)" };

  function kindBadge(req) {
    var label = KIND_LABELS[req.topic];
    if (!label) { return null; }
    var badge = el("span", "kind kind-" + req.topic, label);
    badge.title = req.topic === "erasure" ?
      "Confirm from the account's email address, then erase within one month" :
      "Complaint: no cost to the shopper; repair, replace or refund";
    return badge;
  }

  // What the shopper asked the bot about before asking for a person (the intent of their
  // last question, actions/handover.py topic_of), in words; an unknown one as written.
  var TOPIC_LABELS = {
    general: "General", order_status: "Order status", track_parcel: "Parcel tracking",
    product_info: "Products", payment_methods: "Payment methods", payment_issue: "Payment problem",
    invoice: "Invoice", delivery_methods: "Delivery options", delivery_time: "Delivery time",
    returns: "Returns", complaint: "Complaint", cancel_order: "Cancelling an order",
    change_order: "Changing an order", change_address: "Changing an address",
    cancellation_fee: "Cancellation fee", place_order: "Placing an order",
    create_account: "Creating an account", edit_account: "Editing an account",
    login_problem: "Login problem", delete_account: "Deleting an account",
    newsletter: "Newsletter", feedback: "Feedback", privacy: "Privacy", erasure: "Erasure request",
    download_conversation: "Chat download", delete_conversation: "Chat deletion",
    capabilities: "What the bot can do",
  };

  function topicLabel(topic) {
    if (!topic) { return topic; }
    return TOPIC_LABELS[topic] || String(topic).replace(/_/g, " ");
  }

  // Whether the order number and email belong together (handover/models.py ORDER_*): an
  // order whose email did not match is not the shopper's until they prove it otherwise.
  var ORDER_CHECKS = {
    matches: "email matches the order",
    no_match: "email does NOT match this order: confirm who you are talking to before sharing order details",
    unchecked: "not checked (order service unavailable): confirm before sharing order details",
  };

  function orderText(req) {
    if (!req.order_number) { return "none"; }
    var check = ORDER_CHECKS[req.order_check];
    return check ? req.order_number + " (" + check + ")" : req.order_number;
  }

  // The conversation's language (handover/desk_routes.py): agents answer in it.
  var LANGUAGE_NAMES = { en: "English", sv: "Swedish", fi: "Finnish", nb: "Norwegian (Bokmål)" };

  function requestItem(req, withClaim) {
    var li = el("li", "request");
    li.dataset.id = req.id;
    if (state.selected === req.id) { li.classList.add("selected"); }
    var head = el("div");
    var badge = kindBadge(req);
    if (badge) { head.appendChild(badge); head.appendChild(document.createTextNode(" ")); }
    if (req.position) { head.appendChild(el("strong", null, "#" + req.position + " ")); }
    head.appendChild(el("span", "email", req.email || "(no email)"));
    li.appendChild(head);
    var info = el("div");
    field(info, "Order", orderText(req));
    field(info, "Topic", topicLabel(req.topic));
    if (req.language) { field(info, "Language", LANGUAGE_NAMES[req.language] || req.language); }
    field(info, req.status === "waiting" ? "Waiting" : "Waited", duration(req.waiting_seconds));
    li.appendChild(info);
    li.appendChild(el("div", "description", req.description || ""));
    if (withClaim) {
      var claim = el("button", "claim", "Claim");
      claim.type = "button";
      claim.addEventListener("click", function () { claimRequest(req.id); });
      li.appendChild(claim);
    } else {
      var open = el("button", "open", "Open");
      open.type = "button";
      open.addEventListener("click", function () { select(req.id); });
      li.appendChild(open);
    }
    return li;
  }

  function refreshQueue() {
    if (!state.token) { return; }
    api("GET", "/queue").then(function (data) {
      var queue = $("queue"), mine = $("mine"), offline = $("offline");
      queue.replaceChildren();
      mine.replaceChildren();
      offline.replaceChildren();
      data.waiting.forEach(function (req) { queue.appendChild(requestItem(req, true)); });
      data.active.filter(function (r) { return r.mine; }).forEach(function (req) {
        mine.appendChild(requestItem(req, false));
      });
      data.offline.forEach(function (req) {
        var li = el("li", "request");
        var badge = kindBadge(req);
        if (badge) { li.appendChild(badge); }
        li.appendChild(el("div", "email", (req.email || "") + " · " + time(req.created_at)));
        li.appendChild(el("div", "description", req.description || ""));
        offline.appendChild(li);
      });
      $("waiting-count").textContent = "(" + data.waiting.length + ")";
    }).catch(function (err) { setStatus("Queue not updated: " + err.message); });
  }

  function claimRequest(id) {
    var body = id === undefined ? {} : { request_id: id };
    api("POST", "/claim", body).then(function (data) {
      setStatus("");
      select(data.request.id);
      refreshQueue();
    }).catch(function (err) {
      setStatus(err.status === 404 ? "Nobody is waiting." :
        err.status === 409 ? "Someone else was faster; pick another shopper." : err.message);
      refreshQueue();
    });
  }

  // --- the chat ----------------------------------------------------------------------

  function select(id) {
    state.selected = id;
    state.lastChat = "";
    $("reply-form").hidden = false;
    refreshChat();
    $("reply").focus();
  }

  function renderLine(list, sender, text, when, name) {
    var li = el("li", "from-" + sender);
    if (sender !== "system") {
      var who = sender === "agent" ? (name || "Agent") : sender === "bot" ? "Bot" : "Shopper";
      li.appendChild(el("span", "who", who));
    }
    li.appendChild(el("span", "text", text));
    li.title = time(when);
    list.appendChild(li);
    return li;
  }

  // A button the shopper pressed reaches Rasa as its payload ("/human_handoff"). The desk
  // sends the button's title when it knows the bot message that offered it; otherwise a
  // known payload has a label here, and any other reads as its intent's name in words.
  var PAYLOAD_LABELS = ["human_handoff", "affirm", "deny", "no_order_number"];

  function pressedLabel(text, payload) {
    if (text && text !== payload) { return text; }
    var intent = String(payload).replace(/^\/+/, "").split(/[{@]/)[0];
    return PAYLOAD_LABELS.indexOf(intent) >= 0 ? t("payload_" + intent)
      : t("payload_other", { name: intent.replace(/_/g, " ") });
  }

  function renderBotLine(list, m) {
    var payload = m.payload || (m.sender === "shopper" && /^\//.test(m.text || "") ? m.text : null);
    if (!payload) { renderLine(list, m.sender, m.text, m.timestamp); return; }
    var li = renderLine(list, m.sender, pressedLabel(m.text, payload), m.timestamp);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", "pressed", t("pressed_button")));
    li.title = time(m.timestamp) + " \u00b7 " + payload;
  }

  // Requests go only with their conversation, when the shopper deletes it from the
  // widget's gear menu: the open chat is closed here too, its texts taken off the screen,
  // and the agent is told why (it showed "Chat not updated: no handover request 7" with
  // the reply box still open).
  function chatDeleted() {
    state.selected = null;
    state.lastChat = "";
    disarmClose();
    $("reply-form").hidden = true;
    ["case", "assistant-did", "bot-log", "chat-log"].forEach(function (id) { $(id).replaceChildren(); });
    $("assistant-did").hidden = true;
    $("chat-title").textContent = t("chat_deleted_title");
    setStatus(t("chat_deleted"));
    refreshQueue();
  }

  function refreshChat() {
    if (!state.token || state.selected === null) { return; }
    var id = state.selected;
    api("GET", "/requests/" + id).then(function (data) {
      if (state.selected !== id) { return; }
      var req = data.request;
      var fingerprint = JSON.stringify([req.status, data.messages.length,
        data.bot_conversation.length, (data.assistant_did || []).length]);
      if (fingerprint === state.lastChat) { return; }
      state.lastChat = fingerprint;
      $("chat-title").textContent = "Chat with " + (req.email || "shopper");
      var info = $("case");
      info.replaceChildren();
      [["Order number", orderText(req)], ["Email", req.email],
        ["Topic", topicLabel(req.topic)],
        ["Language", LANGUAGE_NAMES[req.language] || req.language],
        ["Description", req.description], ["Status", req.status]]
        .forEach(function (pair) {
          info.appendChild(el("dt", null, pair[0]));
          info.appendChild(el("dd", null, pair[1] || ""));
        });
      var did = $("assistant-did");
      did.replaceChildren();
      (data.assistant_did || []).forEach(function (change) {
        var li = el("li", "did-" + change.result, change.text);
        li.title = time(change.timestamp);
        did.appendChild(li);
      });
      did.hidden = did.children.length === 0;
      var bot = $("bot-log");
      bot.replaceChildren();
      data.bot_conversation.forEach(function (m) { renderBotLine(bot, m); });
      // The turns that led to the handover are the last ones: show them, not the oldest.
      bot.scrollTop = bot.scrollHeight;
      var log = $("chat-log");
      log.replaceChildren();
      data.messages.forEach(function (m) {
        renderLine(log, m.sender, m.text, m.created_at, req.agent);
      });
      log.scrollTop = log.scrollHeight;
      var open = req.status === "active" && req.agent === state.agent;
      $("reply-form").hidden = !open;
      if (!open) { setStatus("This chat is " + req.status + "."); }
    }).catch(function (err) {
      if (state.selected !== id) { return; }
      if (err.status === 404) { chatDeleted(); } else { setStatus("Chat not updated: " + err.message); }
    });
  }

  function send(event) {
    event.preventDefault();
    var text = $("reply").value.trim();
    if (!text || state.selected === null) { return; }
    api("POST", "/requests/" + state.selected + "/messages", { text: text })
      .then(function () { $("reply").value = ""; refreshChat(); })
      .catch(function (err) {
        if (err.status === 404) { chatDeleted(); } else { setStatus("Not sent: " + err.message); }
      });
  }

  // Closing hands the shopper back to the bot and cannot be undone: the first click only
  // asks ("Click again to close"), a second within five seconds closes.
  var closeArmed = null;

  function disarmClose() {
    if (closeArmed !== null) { clearTimeout(closeArmed); closeArmed = null; }
    $("close").textContent = "Close chat";
  }

  function closeChat() {
    if (state.selected === null) { return; }
    if (closeArmed === null) {
      $("close").textContent = "Click again to close";
      closeArmed = setTimeout(disarmClose, 5000);
      return;
    }
    disarmClose();
    api("POST", "/requests/" + state.selected + "/close").then(function () {
      setStatus("Chat closed; the bot has taken over again.");
      state.lastChat = "";
      refreshChat();
      refreshQueue();
    }).catch(function (err) { setStatus("Not closed: " + err.message); });
  }

  // --- wiring ------------------------------------------------------------------------

  $("sign-in-form").addEventListener("submit", function (event) {
    event.preventDefault();
    signIn($("token").value.trim());
    $("token").value = "";
  });
  $("sign-out").addEventListener("click", function () { signOut(""); });
  $("claim-next").addEventListener("click", function () { claimRequest(); });
  $("reply-form").addEventListener("submit", send);
  $("reply").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { send(event); }
  });
  $("close").addEventListener("click", closeChat);

  var saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) { signIn(saved); }
})();
