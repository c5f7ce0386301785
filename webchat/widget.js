/*
 * Chat widget of the retail assistant. Plain JavaScript, no build step.
 *
 * Embed with one tag (the attributes are optional):
 *   <script src="/widget.js" data-server-url="http://localhost:5005"
 *           data-privacy-url="/privacy" data-title="Chat with us" data-lang="sv" defer></script>
 *
 * Languages: English, Swedish, Finnish and Norwegian Bokmål (STRINGS below), from data-lang,
 * else the page's <html lang>; the server is told in session_request (README "Languages").
 *
 * Loads widget.css and the socket.io client from the directory widget.js came from.
 * The server issues the session; the widget keeps only its id and token in localStorage
 * (no message text), resumes with them after a reload or a reconnect, and re-reads the
 * history from the transcript route. Every message is rendered with textContent: text
 * that looks like HTML is shown, never interpreted.
 *
 * Feedback: every bot answer has a thumbs up/down pair (one vote per message, changeable;
 * the buttons say aria-pressed and a live region announces the saved vote). A 1-5 rating
 * with an optional comment is offered once per conversation when it ends (after a goodbye
 * or thanks once the shopper has written at least two messages, or when the panel is
 * closed after two messages) and when a chat with an agent closes, unless the shopper has
 * rated already; never while an agent is awaited or chatting. It is a card beside the
 * chat, never a dialog: ignoring it, or "No thanks", leaves everything as it was. Both go
 * to POST /webhooks/webchat/conversations/<id>/feedback.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script || window.__retailWebchatLoaded) { return; }
  window.__retailWebchatLoaded = true;

  // --- strings ---------------------------------------------------------------------------
  // Everything the widget itself says, one plain table per language (the bot's answers come
  // from the server in the conversation's language). Written as JSON so that tests read it
  // (tests/webchat/test_widget_strings.py): every language has exactly the keys of "en",
  // none empty, with the same {placeholders}. To add a language, copy "en", translate the
  // values and add the code to the README's list. Saved and served as UTF-8.
  // strings-begin
  var STRINGS = {
    "en": {
      "title": "Chat with us",
      "open_chat": "Open chat",
      "open_chat_unread": "Open chat (new messages)",
      "close_chat": "Close chat",
      "settings": "Chat settings",
      "download_txt": "Download conversation (.txt)",
      "download_json": "Download conversation (.json)",
      "download_filename": "conversation",
      "delete_conversation": "Delete conversation",
      "privacy_notice": "Privacy notice",
      "confirm_delete": "Delete this conversation for good? This cannot be undone.",
      "delete": "Delete",
      "cancel": "Cancel",
      "leave_queue": "Leave queue",
      "conversation": "Conversation",
      "typing": "The assistant is typing",
      "suggested_answers": "Suggested answers",
      "your_message": "Your message",
      "placeholder": "Type your message…",
      "send": "Send",
      "sender_you": "You",
      "sender_agent": "Agent",
      "sender_agent_named": "{name} (agent)",
      "sender_notice": "Notice",
      "sender_bot": "Assistant (bot)",
      "vote_group": "Was this answer helpful?",
      "vote_helpful": "Helpful",
      "vote_not_helpful": "Not helpful",
      "vote_saved_helpful": "Thanks, marked as helpful.",
      "vote_saved_not_helpful": "Thanks, marked as not helpful.",
      "vote_failed": "Sorry, your vote could not be saved.",
      "vote_failed_status": "Sorry, your vote could not be saved. Please try again.",
      "rating_title": "How was this chat?",
      "rating_star": "{n} of 5",
      "rating_comment_label": "Anything to add? (optional)",
      "rating_send": "Send rating",
      "rating_skip": "No thanks",
      "rating_ask": "How was this chat? You can rate it from 1 to 5, or ignore this.",
      "rating_chosen": "{n} of 5 chosen. Add a comment if you like, then send.",
      "rating_thanks": "Thank you for your rating.",
      "rating_failed": "Sorry, your rating could not be saved.",
      "rating_failed_status": "Sorry, your rating could not be saved. Please try again.",
      "load_failed": "The chat could not load. Please try again later.",
      "connecting": "Connecting…",
      "connection_lost": "Connection lost. Reconnecting…",
      "cannot_reach": "Cannot reach the chat. Retrying…",
      "session_ended": "Your earlier chat has ended, so a new one has started.",
      "deleted": "The conversation was deleted.",
      "history_failed": "Could not load the earlier messages.",
      "not_connected": "Not connected yet. Please wait a moment.",
      "too_long": "That message is too long ({max} characters at most).",
      "over_limit": "{count} of {max} characters. Please shorten your message to send it.",
      "not_sent": "Not sent",
      "queue_waiting": "Waiting for an agent.",
      "queue_position": "Waiting for an agent: you are number {position} in the queue.",
      "queue_position_wait": "Waiting for an agent: you are number {position} in the queue, about {minutes} min.",
      "queue_wait": "Waiting for an agent, about {minutes} min.",
      "agent_active": "You are chatting with {name}.",
      "agent_active_unnamed": "You are chatting with an agent.",
      "agent_left": "The agent has left the chat. The assistant is back.",
      "queue_left": "You left the queue. The assistant is here to help.",
      "nothing_to_download": "There is no conversation to download yet.",
      "preparing_download": "Preparing your download…",
      "downloaded": "Conversation downloaded.",
      "download_failed": "Sorry, the download failed. Please try again.",
      "deleting": "Deleting…",
      "delete_failed": "Sorry, the conversation could not be deleted. Please try again."
    },
    "sv": {
      "title": "Chatta med oss",
      "open_chat": "Öppna chatten",
      "open_chat_unread": "Öppna chatten (nya meddelanden)",
      "close_chat": "Stäng chatten",
      "settings": "Chattinställningar",
      "download_txt": "Ladda ner konversationen (.txt)",
      "download_json": "Ladda ner konversationen (.json)",
      "download_filename": "konversation",
      "delete_conversation": "Radera konversationen",
      "privacy_notice": "Integritetsinformation",
      "confirm_delete": "Vill du radera konversationen för gott? Det går inte att ångra.",
      "delete": "Radera",
      "cancel": "Avbryt",
      "leave_queue": "Lämna kön",
      "conversation": "Konversation",
      "typing": "Assistenten skriver",
      "suggested_answers": "Svarsförslag",
      "your_message": "Ditt meddelande",
      "placeholder": "Skriv ditt meddelande…",
      "send": "Skicka",
      "sender_you": "Du",
      "sender_agent": "Handläggare",
      "sender_agent_named": "{name} (handläggare)",
      "sender_notice": "Meddelande",
      "sender_bot": "Assistent (bot)",
      "vote_group": "Var svaret till hjälp?",
      "vote_helpful": "Till hjälp",
      "vote_not_helpful": "Inte till hjälp",
      "vote_saved_helpful": "Tack, markerat som till hjälp.",
      "vote_saved_not_helpful": "Tack, markerat som inte till hjälp.",
      "vote_failed": "Tyvärr kunde din röst inte sparas.",
      "vote_failed_status": "Tyvärr kunde din röst inte sparas. Försök igen.",
      "rating_title": "Hur var chatten?",
      "rating_star": "{n} av 5",
      "rating_comment_label": "Något att tillägga? (valfritt)",
      "rating_send": "Skicka betyg",
      "rating_skip": "Nej tack",
      "rating_ask": "Hur var chatten? Du kan ge ett betyg från 1 till 5, eller hoppa över det här.",
      "rating_chosen": "{n} av 5 valt. Lägg till en kommentar om du vill och skicka sedan.",
      "rating_thanks": "Tack för ditt betyg.",
      "rating_failed": "Tyvärr kunde ditt betyg inte sparas.",
      "rating_failed_status": "Tyvärr kunde ditt betyg inte sparas. Försök igen.",
      "load_failed": "Chatten kunde inte laddas. Försök igen senare.",
      "connecting": "Ansluter…",
      "connection_lost": "Anslutningen bröts. Ansluter igen…",
      "cannot_reach": "Chatten går inte att nå. Försöker igen…",
      "session_ended": "Din tidigare chatt har avslutats, så en ny har startat.",
      "deleted": "Konversationen har raderats.",
      "history_failed": "De tidigare meddelandena kunde inte laddas.",
      "not_connected": "Inte ansluten än. Vänta ett ögonblick.",
      "too_long": "Meddelandet är för långt (högst {max} tecken).",
      "over_limit": "{count} av {max} tecken. Korta meddelandet för att kunna skicka det.",
      "not_sent": "Inte skickat",
      "queue_waiting": "Väntar på en handläggare.",
      "queue_position": "Väntar på en handläggare: du är nummer {position} i kön.",
      "queue_position_wait": "Väntar på en handläggare: du är nummer {position} i kön, cirka {minutes} min.",
      "queue_wait": "Väntar på en handläggare, cirka {minutes} min.",
      "agent_active": "Du chattar med {name}.",
      "agent_active_unnamed": "Du chattar med en handläggare.",
      "agent_left": "Handläggaren har lämnat chatten. Assistenten är tillbaka.",
      "queue_left": "Du har lämnat kön. Assistenten hjälper dig gärna.",
      "nothing_to_download": "Det finns ingen konversation att ladda ner än.",
      "preparing_download": "Förbereder nedladdningen…",
      "downloaded": "Konversationen har laddats ner.",
      "download_failed": "Tyvärr misslyckades nedladdningen. Försök igen.",
      "deleting": "Raderar…",
      "delete_failed": "Tyvärr kunde konversationen inte raderas. Försök igen."
    },
    "fi": {
      "title": "Chattaa kanssamme",
      "open_chat": "Avaa chat",
      "open_chat_unread": "Avaa chat (uusia viestejä)",
      "close_chat": "Sulje chat",
      "settings": "Chatin asetukset",
      "download_txt": "Lataa keskustelu (.txt)",
      "download_json": "Lataa keskustelu (.json)",
      "download_filename": "keskustelu",
      "delete_conversation": "Poista keskustelu",
      "privacy_notice": "Tietosuojaseloste",
      "confirm_delete": "Poistetaanko keskustelu pysyvästi? Poistoa ei voi perua.",
      "delete": "Poista",
      "cancel": "Peruuta",
      "leave_queue": "Poistu jonosta",
      "conversation": "Keskustelu",
      "typing": "Avustaja kirjoittaa",
      "suggested_answers": "Vastausehdotukset",
      "your_message": "Viestisi",
      "placeholder": "Kirjoita viestisi…",
      "send": "Lähetä",
      "sender_you": "Sinä",
      "sender_agent": "Asiakaspalvelija",
      "sender_agent_named": "{name} (asiakaspalvelija)",
      "sender_notice": "Ilmoitus",
      "sender_bot": "Avustaja (botti)",
      "vote_group": "Oliko vastauksesta apua?",
      "vote_helpful": "Hyödyllinen",
      "vote_not_helpful": "Ei hyödyllinen",
      "vote_saved_helpful": "Kiitos, merkitty hyödylliseksi.",
      "vote_saved_not_helpful": "Kiitos, merkitty hyödyttömäksi.",
      "vote_failed": "Valitettavasti ääntäsi ei voitu tallentaa.",
      "vote_failed_status": "Valitettavasti ääntäsi ei voitu tallentaa. Yritä uudelleen.",
      "rating_title": "Millainen chat oli?",
      "rating_star": "{n} / 5",
      "rating_comment_label": "Haluatko lisätä jotain? (vapaaehtoinen)",
      "rating_send": "Lähetä arvio",
      "rating_skip": "Ei kiitos",
      "rating_ask": "Millainen chat oli? Voit antaa arvion asteikolla 1–5 tai ohittaa tämän.",
      "rating_chosen": "Valitsit {n} / 5. Lisää halutessasi kommentti ja lähetä.",
      "rating_thanks": "Kiitos arviostasi.",
      "rating_failed": "Valitettavasti arviotasi ei voitu tallentaa.",
      "rating_failed_status": "Valitettavasti arviotasi ei voitu tallentaa. Yritä uudelleen.",
      "load_failed": "Chatin lataaminen epäonnistui. Yritä myöhemmin uudelleen.",
      "connecting": "Yhdistetään…",
      "connection_lost": "Yhteys katkesi. Yhdistetään uudelleen…",
      "cannot_reach": "Chattiin ei saada yhteyttä. Yritetään uudelleen…",
      "session_ended": "Aiempi chattisi on päättynyt, joten uusi on alkanut.",
      "deleted": "Keskustelu on poistettu.",
      "history_failed": "Aiempia viestejä ei voitu ladata.",
      "not_connected": "Yhteyttä ei ole vielä muodostettu. Odota hetki.",
      "too_long": "Viesti on liian pitkä (enintään {max} merkkiä).",
      "over_limit": "{count}/{max} merkkiä. Lyhennä viestiä, jotta voit lähettää sen.",
      "not_sent": "Ei lähetetty",
      "queue_waiting": "Odotetaan asiakaspalvelijaa.",
      "queue_position": "Odotetaan asiakaspalvelijaa: olet jonossa sijalla {position}.",
      "queue_position_wait": "Odotetaan asiakaspalvelijaa: olet jonossa sijalla {position}, odotusaika noin {minutes} min.",
      "queue_wait": "Odotetaan asiakaspalvelijaa, odotusaika noin {minutes} min.",
      "agent_active": "Sinua palvelee {name}.",
      "agent_active_unnamed": "Sinua palvelee asiakaspalvelija.",
      "agent_left": "Asiakaspalvelija poistui chatista. Avustaja on taas paikalla.",
      "queue_left": "Poistuit jonosta. Avustaja auttaa sinua mielellään.",
      "nothing_to_download": "Ladattavaa keskustelua ei vielä ole.",
      "preparing_download": "Valmistellaan latausta…",
      "downloaded": "Keskustelu ladattu.",
      "download_failed": "Valitettavasti lataus epäonnistui. Yritä uudelleen.",
      "deleting": "Poistetaan…",
      "delete_failed": "Valitettavasti keskustelua ei voitu poistaa. Yritä uudelleen."
    },
    "nb": {
      "title": "Chat med oss",
      "open_chat": "Åpne chatten",
      "open_chat_unread": "Åpne chatten (nye meldinger)",
      "close_chat": "Lukk chatten",
      "settings": "Chatinnstillinger",
      "download_txt": "Last ned samtalen (.txt)",
      "download_json": "Last ned samtalen (.json)",
      "download_filename": "samtale",
      "delete_conversation": "Slett samtalen",
      "privacy_notice": "Personvernerklæring",
      "confirm_delete": "Vil du slette denne samtalen for godt? Det kan ikke angres.",
      "delete": "Slett",
      "cancel": "Avbryt",
      "leave_queue": "Forlat køen",
      "conversation": "Samtale",
      "typing": "Assistenten skriver",
      "suggested_answers": "Svarforslag",
      "your_message": "Din melding",
      "placeholder": "Skriv meldingen din…",
      "send": "Send",
      "sender_you": "Du",
      "sender_agent": "Medarbeider",
      "sender_agent_named": "{name} (medarbeider)",
      "sender_notice": "Merknad",
      "sender_bot": "Assistent (bot)",
      "vote_group": "Var svaret nyttig?",
      "vote_helpful": "Nyttig",
      "vote_not_helpful": "Ikke nyttig",
      "vote_saved_helpful": "Takk, markert som nyttig.",
      "vote_saved_not_helpful": "Takk, markert som ikke nyttig.",
      "vote_failed": "Beklager, stemmen din kunne ikke lagres.",
      "vote_failed_status": "Beklager, stemmen din kunne ikke lagres. Prøv igjen.",
      "rating_title": "Hvordan var chatten?",
      "rating_star": "{n} av 5",
      "rating_comment_label": "Noe å legge til? (valgfritt)",
      "rating_send": "Send vurdering",
      "rating_skip": "Nei takk",
      "rating_ask": "Hvordan var chatten? Du kan gi en vurdering fra 1 til 5, eller hoppe over dette.",
      "rating_chosen": "{n} av 5 valgt. Legg til en kommentar hvis du vil, og send.",
      "rating_thanks": "Takk for vurderingen din.",
      "rating_failed": "Beklager, vurderingen din kunne ikke lagres.",
      "rating_failed_status": "Beklager, vurderingen din kunne ikke lagres. Prøv igjen.",
      "load_failed": "Chatten kunne ikke lastes. Prøv igjen senere.",
      "connecting": "Kobler til…",
      "connection_lost": "Forbindelsen ble brutt. Kobler til på nytt…",
      "cannot_reach": "Får ikke kontakt med chatten. Prøver igjen…",
      "session_ended": "Den forrige chatten din er avsluttet, så en ny er startet.",
      "deleted": "Samtalen er slettet.",
      "history_failed": "De tidligere meldingene kunne ikke lastes.",
      "not_connected": "Ikke tilkoblet ennå. Vent litt.",
      "too_long": "Meldingen er for lang (maks {max} tegn).",
      "over_limit": "{count} av {max} tegn. Kort ned meldingen for å kunne sende den.",
      "not_sent": "Ikke sendt",
      "queue_waiting": "Venter på en medarbeider.",
      "queue_position": "Venter på en medarbeider: du er nummer {position} i køen.",
      "queue_position_wait": "Venter på en medarbeider: du er nummer {position} i køen, omtrent {minutes} min.",
      "queue_wait": "Venter på en medarbeider, omtrent {minutes} min.",
      "agent_active": "Du chatter med {name}.",
      "agent_active_unnamed": "Du chatter med en medarbeider.",
      "agent_left": "Medarbeideren har forlatt chatten. Assistenten er tilbake.",
      "queue_left": "Du har forlatt køen. Assistenten hjelper deg gjerne.",
      "nothing_to_download": "Det er ingen samtale å laste ned ennå.",
      "preparing_download": "Forbereder nedlastingen…",
      "downloaded": "Samtalen er lastet ned.",
      "download_failed": "Beklager, nedlastingen mislyktes. Prøv igjen.",
      "deleting": "Sletter…",
      "delete_failed": "Beklager, samtalen kunne ikke slettes. Prøv igjen."
    }
  };
  // strings-end

  // The widget's language: data-lang on its script tag, else the page's <html lang>, the
  // first of the two that names a language of STRINGS (sv-SE is sv; no, nn and nb-NO are
  // Norwegian Bokmål, nb), else English. The server hears it in session_request.
  function supportedLanguage(tag) {
    var code = String(tag || '').trim().toLowerCase().split(/[-_]/)[0];
    if (code === 'no' || code === 'nn') { code = 'nb'; }
    return Object.prototype.hasOwnProperty.call(STRINGS, code) ? code : null;
  }

  var language = supportedLanguage(script.dataset.lang) ||
    supportedLanguage(document.documentElement.getAttribute('lang')) || 'en';

  // A string of the widget's language; {name} placeholders filled from `values`.
  function t(key, values) {
    var text = STRINGS[language][key];
    if (typeof text !== 'string') { text = STRINGS.en[key]; }
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  // The privacy notice in the widget's language: ?lang= unless the page's URL sets it.
  function localisedPrivacyUrl(url) {
    try {
      var parsed = new URL(url, document.baseURI);
      if (language !== 'en' && !parsed.searchParams.has('lang')) { parsed.searchParams.set('lang', language); }
      return parsed.href;
    } catch (e) { return url; }
  }

  var base = new URL('.', script.src).href;
  var config = {
    serverUrl: (script.dataset.serverUrl || 'http://localhost:5005').replace(/\/+$/, ''),
    privacyUrl: localisedPrivacyUrl(script.dataset.privacyUrl || new URL('/privacy', script.src).href),
    title: script.dataset.title || t('title'),
    maxChars: parseInt(script.dataset.maxChars || '2000', 10),
    storageKey: 'retail-assistant-webchat'
  };
  var SESSION_START = '/session_start';
  var MAX_COMMENT_CHARS = 1000;
  // A goodbye or a thanks ends a bot chat (English, German, Swedish, Finnish, Norwegian).
  // Not \b after the word: JavaScript's \b does not see a word end after å or ä.
  var ENDING = new RegExp('^\\W*(bye|goodbye|good bye|see you|thanks?|thank you|thx|ty|cheers|danke|' +
    'tsch(u|\u00fc)ss|tack|tackar|hej d(a|\u00e5)|kiitos|kiitti|hei hei|heippa|moi moi|n\u00e4kemiin|' +
    'takk|ha det)(?=$|[\\s!.,?:;)])', 'i');
  var TYPING_TIMEOUT_MS = 20000;

  // --- small helpers -------------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === 'className') { node.className = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
    });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function loadSession() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(config.storageKey) || 'null');
      if (stored && typeof stored.session_id === 'string' && typeof stored.session_token === 'string') {
        return stored;
      }
    } catch (e) { /* storage blocked or corrupt: start afresh */ }
    return null;
  }

  function saveSession(session) {
    try {
      if (session) {
        window.localStorage.setItem(config.storageKey, JSON.stringify({
          session_id: session.session_id, session_token: session.session_token,
          rating_asked: !!session.rating_asked, rated: !!session.rated,
          handover: !!session.handover
        }));
      } else {
        window.localStorage.removeItem(config.storageKey);
      }
    } catch (e) { /* the chat still works for this page view */ }
  }

  function formatTime(date) {
    return date.toLocaleTimeString([language], { hour: '2-digit', minute: '2-digit' });
  }

  // --- DOM ------------------------------------------------------------------------------

  var css = el('link', { rel: 'stylesheet', href: base + 'widget.css' });
  document.head.appendChild(css);

  var root = el('div', { className: 'rwc-root', lang: language });
  var launcher = el('button', {
    type: 'button', className: 'rwc-launcher', 'aria-expanded': 'false',
    'aria-controls': 'rwc-panel', 'aria-label': t('open_chat')
  });
  launcher.appendChild(el('span', { className: 'rwc-launcher-icon', 'aria-hidden': 'true' }));
  // The number of messages that came while the panel was closed (the label says so too).
  var unreadBadge = el('span', { className: 'rwc-unread', 'aria-hidden': 'true' });
  unreadBadge.hidden = true;
  launcher.appendChild(unreadBadge);

  var panel = el('section', {
    id: 'rwc-panel', className: 'rwc-panel', role: 'dialog', 'aria-label': config.title
  });
  panel.hidden = true;

  var header = el('header', { className: 'rwc-header' });
  var heading = el('h2', { className: 'rwc-title' }, config.title);
  var gear = el('button', {
    type: 'button', className: 'rwc-icon-button rwc-gear', 'aria-haspopup': 'menu',
    'aria-expanded': 'false', 'aria-controls': 'rwc-menu', 'aria-label': t('settings')
  }, '\u2699');
  var closeButton = el('button', {
    type: 'button', className: 'rwc-icon-button rwc-close', 'aria-label': t('close_chat')
  }, '\u00d7');
  header.appendChild(heading);
  header.appendChild(gear);
  header.appendChild(closeButton);

  var menu = el('div', { id: 'rwc-menu', className: 'rwc-menu', role: 'menu', 'aria-label': t('settings') });
  menu.hidden = true;
  var downloadTxt = el('button', { type: 'button', role: 'menuitem', className: 'rwc-menuitem', 'data-action': 'download-txt' }, t('download_txt'));
  var downloadJson = el('button', { type: 'button', role: 'menuitem', className: 'rwc-menuitem', 'data-action': 'download-json' }, t('download_json'));
  var deleteItem = el('button', { type: 'button', role: 'menuitem', className: 'rwc-menuitem rwc-danger', 'data-action': 'delete' }, t('delete_conversation'));
  var privacyLink = el('a', { role: 'menuitem', className: 'rwc-menuitem', href: config.privacyUrl, target: '_blank', rel: 'noopener' }, t('privacy_notice'));
  [downloadTxt, downloadJson, deleteItem, privacyLink].forEach(function (item) { menu.appendChild(item); });

  var confirmBox = el('div', { className: 'rwc-confirm', role: 'alertdialog', 'aria-labelledby': 'rwc-confirm-text' });
  confirmBox.hidden = true;
  confirmBox.appendChild(el('p', { id: 'rwc-confirm-text' }, t('confirm_delete')));
  var confirmYes = el('button', { type: 'button', className: 'rwc-button rwc-danger', 'data-action': 'confirm-delete' }, t('delete'));
  var confirmNo = el('button', { type: 'button', className: 'rwc-button', 'data-action': 'cancel-delete' }, t('cancel'));
  confirmBox.appendChild(confirmYes);
  confirmBox.appendChild(confirmNo);

  var handoverBar = el('div', { className: 'rwc-handover', role: 'status' });
  handoverBar.hidden = true;
  var handoverState = '';  // the latest handover_status state the bar shows
  var handoverText = el('span', { className: 'rwc-handover-text' });
  var leaveQueue = el('button', { type: 'button', className: 'rwc-button rwc-small' }, t('leave_queue'));
  handoverBar.appendChild(handoverText);
  handoverBar.appendChild(leaveQueue);

  var log = el('ol', {
    className: 'rwc-messages', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions',
    'aria-label': t('conversation'), tabindex: '0'
  });
  var typing = el('div', { className: 'rwc-typing', 'aria-hidden': 'true' });
  typing.appendChild(el('span', { className: 'rwc-dot' }));
  typing.appendChild(el('span', { className: 'rwc-dot' }));
  typing.appendChild(el('span', { className: 'rwc-dot' }));
  typing.appendChild(el('span', { className: 'rwc-sr-only' }, t('typing')));
  typing.hidden = true;
  var quickReplies = el('div', { className: 'rwc-quick-replies', role: 'group', 'aria-label': t('suggested_answers') });

  var status = el('div', { className: 'rwc-status', role: 'status', 'aria-live': 'polite' });
  // Screen readers hear what a feedback button did; nothing is shown.
  var announcer = el('div', { className: 'rwc-sr-only rwc-announcer', role: 'status', 'aria-live': 'polite' });

  // The end-of-chat rating: a card, not a dialog (the chat stays usable around it).
  var rating = el('div', { className: 'rwc-rating', role: 'group', 'aria-labelledby': 'rwc-rating-title' });
  rating.hidden = true;
  var ratingTitle = el('p', { id: 'rwc-rating-title', className: 'rwc-rating-title' }, t('rating_title'));
  var ratingScale = el('div', { className: 'rwc-rating-scale' });
  var ratingButtons = [1, 2, 3, 4, 5].map(function (n) {
    var b = el('button', {
      type: 'button', className: 'rwc-star', 'aria-pressed': 'false',
      'aria-label': t('rating_star', { n: n }), 'data-rating': String(n)
    }, String(n));
    ratingScale.appendChild(b);
    return b;
  });
  var commentId = 'rwc-rating-comment';
  var commentLabel = el('label', { 'for': commentId, className: 'rwc-rating-label' }, t('rating_comment_label'));
  var comment = el('textarea', { id: commentId, className: 'rwc-rating-comment', rows: '2', maxlength: String(MAX_COMMENT_CHARS) });
  var ratingSend = el('button', { type: 'button', className: 'rwc-button rwc-small', 'data-action': 'send-rating' }, t('rating_send'));
  var ratingSkip = el('button', { type: 'button', className: 'rwc-button rwc-small rwc-quiet', 'data-action': 'skip-rating' }, t('rating_skip'));
  var ratingMore = el('div', { className: 'rwc-rating-more' });
  ratingMore.hidden = true;
  [commentLabel, comment, ratingSend].forEach(function (n) { ratingMore.appendChild(n); });
  [ratingTitle, ratingScale, ratingMore, ratingSkip].forEach(function (n) { rating.appendChild(n); });

  var form = el('form', { className: 'rwc-form' });
  var inputId = 'rwc-input';
  form.appendChild(el('label', { 'for': inputId, className: 'rwc-sr-only' }, t('your_message')));
  // No maxlength: it cut a pasted text silently. The note below says when it is too long.
  var input = el('input', {
    id: inputId, type: 'text', className: 'rwc-input', autocomplete: 'off',
    placeholder: t('placeholder'), 'aria-describedby': 'rwc-limit'
  });
  var limitNote = el('div', { id: 'rwc-limit', className: 'rwc-limit' });
  limitNote.hidden = true;
  var send = el('button', { type: 'submit', className: 'rwc-send' }, t('send'));
  form.appendChild(input);
  form.appendChild(send);

  [header, menu, confirmBox, handoverBar, log, typing, quickReplies, status, announcer, limitNote, form].forEach(function (node) {
    panel.appendChild(node);
  });
  root.appendChild(panel);
  root.appendChild(launcher);

  // Keep the newest message in view when something below or above the message list
  // (suggested answers, the queue bar, the rating card, the typing dots) takes room from
  // it: scrolling to the end when a message arrives happens before those appear, so the
  // last message was left half hidden. Judged by the height the list had before, so a
  // shopper who scrolled back stays where they are.
  var logHeight = 0;
  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(function () {
      var wasAtEnd = !logHeight || log.scrollHeight - log.scrollTop - logHeight < 24;
      logHeight = log.clientHeight;
      if (wasAtEnd) { log.scrollTop = log.scrollHeight; }
    }).observe(log);
  }

  function mount() { document.body.appendChild(root); }
  if (document.body) { mount(); } else { document.addEventListener('DOMContentLoaded', mount); }

  // --- rendering ------------------------------------------------------------------------

  var typingTimer = null;

  function showTyping(on) {
    typing.hidden = !on;
    if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
    if (on) { typingTimer = setTimeout(function () { typing.hidden = true; }, TYPING_TIMEOUT_MS); }
  }

  function setStatus(text) { status.textContent = text || ''; }

  // http(s) addresses only: a javascript: or data: URL never becomes a link.
  var URL_PATTERN = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]])/;

  // Message text goes in as text nodes, never as HTML, so markup in a message is shown,
  // not interpreted. In the bot's and agents' messages, web addresses (such as the
  // privacy notice in the bot's introduction) become links built element by element.
  function appendText(parent, text, linkify) {
    var parts = linkify ? String(text).split(URL_PATTERN) : [String(text)];
    parts.forEach(function (part, index) {
      if (index % 2 === 1) {
        var link = el('a', { className: 'rwc-link', href: part, target: '_blank', rel: 'noopener noreferrer' }, part);
        parent.appendChild(link);
      } else if (part) {
        parent.appendChild(document.createTextNode(part));
      }
    });
  }

  function addMessage(sender, text, options) {
    options = options || {};
    var item = el('li', { className: 'rwc-message rwc-from-' + sender });
    var who = sender === 'shopper' ? t('sender_you') : sender === 'agent'
      ? (options.name ? t('sender_agent_named', { name: options.name }) : t('sender_agent'))
      : sender === 'system' ? t('sender_notice') : t('sender_bot');
    var label = el('span', { className: sender === 'agent' ? 'rwc-sender' : 'rwc-sr-only' }, who + ': ');
    var body = el('span', { className: 'rwc-text' });
    appendText(body, text, sender === 'bot' || sender === 'agent');
    var time = el('time', { className: 'rwc-time' }, formatTime(options.time || new Date()));
    if (options.time) { time.setAttribute('datetime', options.time.toISOString()); }
    item.appendChild(label);
    item.appendChild(body);
    item.appendChild(time);
    if (sender === 'bot' && typeof options.messageId === 'string' && options.messageId.indexOf('m-') === 0) {
      item.appendChild(voteButtons(options.messageId));
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  // A message the server did not take stays in view, marked as not sent.
  function markNotSent(item) {
    item.classList.add('rwc-not-sent');
    item.appendChild(el('span', { className: 'rwc-not-sent-label' }, t('not_sent')));
  }

  // Messages that came while the panel was closed: a count on the launcher, and its label
  // says there are new ones, until the panel is opened.
  var unread = 0;
  function setUnread(count) {
    unread = count;
    unreadBadge.textContent = count > 9 ? '9+' : String(count);
    unreadBadge.hidden = count === 0;
    if (panel.hidden) { launcher.setAttribute('aria-label', t(count ? 'open_chat_unread' : 'open_chat')); }
  }

  // The server refuses messages over its limit; the box says so as soon as the text is too
  // long, instead of cutting a pasted text (maxlength did, silently). Counted in code
  // points, as the server counts: an emoji is one character there, two in String.length.
  function charCount(text) { return Array.from(text).length; }

  function checkLength() {
    var count = charCount(input.value.trim());
    var over = count > config.maxChars;
    limitNote.textContent = over ? t('over_limit', {
      count: count.toLocaleString(language), max: config.maxChars.toLocaleString(language)
    }) : '';
    limitNote.hidden = !over;
    if (over) { input.setAttribute('aria-invalid', 'true'); } else { input.removeAttribute('aria-invalid'); }
    return !over;
  }

  // --- feedback ---------------------------------------------------------------------------

  var votes = {};  // message_id -> true/false, as the server has it

  function voteButtons(messageId) {
    var group = el('div', { className: 'rwc-vote', role: 'group', 'aria-label': t('vote_group'), 'data-message-id': messageId });
    [[true, '\ud83d\udc4d', t('vote_helpful')], [false, '\ud83d\udc4e', t('vote_not_helpful')]].forEach(function (spec) {
      var b = el('button', {
        type: 'button', className: 'rwc-vote-button', 'aria-pressed': 'false',
        'aria-label': spec[2], title: spec[2], 'data-helpful': String(spec[0])
      }, spec[1]);
      b.addEventListener('click', function () { vote(messageId, spec[0], group); });
      group.appendChild(b);
    });
    if (messageId in votes) { showVote(group, votes[messageId]); }
    return group;
  }

  function showVote(group, helpful) {
    Array.prototype.forEach.call(group.querySelectorAll('.rwc-vote-button'), function (b) {
      b.setAttribute('aria-pressed', String(b.getAttribute('data-helpful') === String(helpful)));
    });
  }

  function announce(text) {
    announcer.textContent = '';
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function postFeedback(body) {
    if (!session) { return Promise.reject(new Error('no session')); }
    return fetch(conversationUrl('/feedback'), {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + session.session_token, 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.json();
    });
  }

  function vote(messageId, helpful, group) {
    postFeedback({ message_id: messageId, helpful: helpful }).then(function () {
      votes[messageId] = helpful;
      showVote(group, helpful);
      announce(helpful ? t('vote_saved_helpful') : t('vote_saved_not_helpful'));
    }).catch(function () {
      announce(t('vote_failed'));
      setStatus(t('vote_failed_status'));
    });
  }

  var shopperTurns = 0;
  var chosenRating = 0;

  function withAgent() { return handoverState === 'waiting' || handoverState === 'active'; }

  // Offered once, but never while an agent is awaited or chatting: that chat has not
  // ended, and an offer then used up the rating the agent should get. A chat with an agent
  // gets an offer of its own when it closes (showHandover), unless the shopper has rated.
  function askRating() {
    if (!session || session.rating_asked || !rating.hidden || withAgent()) { return; }
    session.rating_asked = true;
    saveSession(session);
    chosenRating = 0;
    comment.value = '';
    ratingMore.hidden = true;
    ratingButtons.forEach(function (b) { b.setAttribute('aria-pressed', 'false'); });
    placeRating();
    rating.hidden = false;
    announce(t('rating_ask'));
  }

  // Inside the panel above the input while it is open; above the launcher when closed.
  function placeRating() {
    if (panel.hidden) { root.insertBefore(rating, launcher); } else { panel.insertBefore(rating, form); }
    rating.classList.toggle('rwc-rating-floating', panel.hidden);
  }

  function hideRating(message) {
    rating.hidden = true;
    if (message) { announce(message); setStatus(message); }
  }

  ratingButtons.forEach(function (b) {
    b.addEventListener('click', function () {
      chosenRating = parseInt(b.getAttribute('data-rating'), 10);
      ratingButtons.forEach(function (o) { o.setAttribute('aria-pressed', String(o === b)); });
      ratingMore.hidden = false;
      announce(t('rating_chosen', { n: chosenRating }));
    });
  });
  ratingSend.addEventListener('click', function () {
    if (!chosenRating) { return; }
    var body = { rating: chosenRating };
    var text = comment.value.trim();
    if (text) { body.comment = text.slice(0, MAX_COMMENT_CHARS); }
    postFeedback(body).then(function () {
      if (session) { session.rated = true; saveSession(session); }
      hideRating(t('rating_thanks'));
    }).catch(function () {
      announce(t('rating_failed'));
      setStatus(t('rating_failed_status'));
    });
  });
  ratingSkip.addEventListener('click', function () { hideRating(); if (!panel.hidden) { input.focus(); } });

  var shownReplies = [];  // the suggested answers on screen, offered again if refused
  function setQuickReplies(replies) {
    shownReplies = replies || [];
    while (quickReplies.firstChild) { quickReplies.removeChild(quickReplies.firstChild); }
    (replies || []).forEach(function (reply) {
      if (!reply || typeof reply.title !== 'string') { return; }
      var button = el('button', { type: 'button', className: 'rwc-quick-reply' }, reply.title);
      button.addEventListener('click', function () {
        sendText(typeof reply.payload === 'string' ? reply.payload : reply.title, reply.title);
      });
      quickReplies.appendChild(button);
    });
  }

  // The conversation's messages and what belongs to them. Not the handover bar: it shows
  // the server's latest handover_status, which a resumed session gets right after
  // session_confirm, before its history has loaded (cleared with the messages, the queue
  // bar and its Leave queue button were gone after every reload).
  function clearLog() {
    while (log.firstChild) { log.removeChild(log.firstChild); }
    setQuickReplies([]);
    showTyping(false);
    rating.hidden = true;
    votes = {};
    shopperTurns = 0;
    sent = [];
  }

  function clearMessages() {
    clearLog();
    showHandover({ state: '' });
  }

  // --- connection -------------------------------------------------------------------------

  var socket = null;
  var session = loadSession();

  // The socket.io client comes from beside widget.js, loaded once, when first needed.
  var clientLoading = null;
  function loadClient() {
    if (typeof window.io === 'function') { return Promise.resolve(); }
    if (!clientLoading) {
      clientLoading = new Promise(function (resolve, reject) {
        var tag = el('script', { src: base + 'vendor/socket.io.min.js' });
        tag.addEventListener('load', resolve);
        tag.addEventListener('error', reject);
        document.head.appendChild(tag);
      });
    }
    return clientLoading;
  }

  function connect() {
    if (socket) { return; }
    loadClient().then(startSocket, function () {
      clientLoading = null;
      setStatus(t('load_failed'));
    });
  }

  function startSocket() {
    if (socket) { return; }
    setStatus(t('connecting'));
    // WebSocket first: a websocket stays on the worker that accepted it, while
    // long-polling requests may land on different workers of a multi-worker server.
    // Where a proxy blocks websockets, the next attempt falls back to polling.
    socket = window.io(config.serverUrl, { reconnectionDelayMax: 10000, transports: ['websocket'] });

    socket.on('connect', function () {
      setStatus('');
      requestSession();
    });
    socket.on('disconnect', function () {
      askedForNew = false;  // a request in flight is lost with the connection
      setStatus(t('connection_lost'));
    });
    socket.on('connect_error', function () {
      socket.io.opts.transports = ['polling', 'websocket'];
      setStatus(t('cannot_reach'));
    });

    socket.on('session_confirm', function (data) {
      if (!data || typeof data.session_id !== 'string') { return; }
      var changed = !session || session.session_id !== data.session_id;
      // A stored session the server would not resume (expired, deleted, or signed with
      // an old secret): say why the history is gone, once, and carry on in the new one.
      var refused = !data.resumed && presented !== null && presented !== data.session_id;
      presented = null;
      askedForNew = false;
      session = {
        session_id: data.session_id, session_token: data.session_token,
        rating_asked: !changed && !!(session && session.rating_asked),
        rated: !changed && !!(session && session.rated)
      };
      saveSession(session);
      send.disabled = false;
      if (!data.resumed) {
        if (changed) { clearMessages(); }
        if (refused) { setStatus(t('session_ended')); }
        // A brand-new session: ask for the bot's introduction before the shopper types.
        socket.emit('user_uttered', { message: SESSION_START });
        showTyping(true);
      } else {
        // Resumed after a reload or a dropped connection: show what the server has,
        // including anything said while this tab was away. An agent awaited or chatting
        // is announced again right after this (handover_status); a bar from before the
        // connection dropped may be out of date.
        if (withAgent()) { showHandover({ state: '' }); }
        loadHistory();
      }
    });

    socket.on('bot_uttered', function (data) {
      if (!data) { return; }
      showTyping(false);
      var replies = data.quick_replies || data.buttons || [];
      if (data.notice === 'too_many_sessions') {
        // No session was started: ask again once the server says there is room.
        askedForNew = false;
        retrySessionAfter(data.retry_after);
      } else if (data.notice === 'too_fast' && typeof data.refused === 'string') {
        replies = takeBack(data.refused);
      }
      if (typeof data.text === 'string' && data.text) {
        var sender = data.sender === 'agent' ? 'agent' : data.sender === 'system' ? 'system' : 'bot';
        addMessage(sender, data.text, { name: data.agent_name, messageId: data.message_id });
        if (panel.hidden) { setUnread(unread + 1); }
      }
      setQuickReplies(replies);
    });

    socket.on('handover_status', showHandover);

    socket.on('conversation_deleted', function (data) {
      if (data && session && data.conversation_id && data.conversation_id !== session.session_id) { return; }
      startAfresh(t('deleted'));
    });
  }

  // On every (re)connect: present the stored session; the server decides.
  var presented = null;     // the session id of the last request, if it named one
  var askedForNew = false;  // a request for a new session is on its way
  function requestSession() {
    if (!socket || !socket.connected) { return; }
    if (!session && askedForNew) { return; }  // one new session, not one per caller
    presented = session ? session.session_id : null;
    askedForNew = !session;
    // The language goes with every request; the server decides what it does with it.
    socket.emit('session_request', session ? {
      session_id: session.session_id, session_token: session.session_token, language: language
    } : { language: language });
  }

  var sessionRetry = null;
  function retrySessionAfter(seconds) {
    if (sessionRetry) { return; }
    var wait = Math.min(Math.max(Number(seconds) || 30, 1), 3600);
    sessionRetry = setTimeout(function () { sessionRetry = null; requestSession(); }, wait * 1000);
  }

  function startAfresh(message) {
    session = null;
    saveSession(null);
    clearMessages();
    setStatus(message || '');
    requestSession();
  }

  function loadHistory() {
    fetchTranscript('json').then(function (response) {
      if (response.status === 401 || response.status === 403) { startAfresh(); return null; }
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (!data || !Array.isArray(data.messages)) { return; }
      clearLog();
      data.messages.forEach(function (m) {
        // Earlier votes and ratings are not lines of the chat: they set the buttons.
        if (m.feedback && typeof m.feedback.message_id === 'string') {
          votes[m.feedback.message_id] = !!m.feedback.helpful;
        } else if (m.feedback && session) {
          session.rating_asked = true;
          session.rated = true;
          saveSession(session);
        }
      });
      data.messages.forEach(function (m) {
        if (m.feedback) { return; }
        if (m.sender === 'shopper') { shopperTurns += 1; }
        addMessage(m.sender, m.text, { name: m.name, time: new Date(m.timestamp), messageId: m.message_id });
      });
      if (data.messages.length === 0 && socket && socket.connected) {
        socket.emit('user_uttered', { message: SESSION_START }); // nothing yet: introduce
        showTyping(true);
      }
    }).catch(function () { setStatus(t('history_failed')); });
  }

  function sendText(text, shown) {
    if (!socket || !socket.connected || !session) {
      setStatus(t('not_connected'));
      return false;
    }
    if (charCount(text) > config.maxChars) {
      setStatus(t('too_long', { max: config.maxChars }));
      return false;
    }
    sent.push({ text: text, item: addMessage('shopper', shown || text), replies: shownReplies });
    if (sent.length > 20) { sent.shift(); }
    setQuickReplies([]);
    if (handoverState === 'closed' || handoverState === 'left') {
      // "The agent has left" is old news once the shopper talks to the bot again.
      handoverState = '';
      handoverBar.hidden = true;
    }
    socket.emit('user_uttered', { message: text });
    // While an agent is awaited or chatting the bot is silent: no "typing" dots then.
    showTyping(handoverState !== 'waiting' && handoverState !== 'active');
    if (ENDING.test(shown || text) && shopperTurns >= 2) { askRating(); }
    shopperTurns += 1;
    return true;
  }

  // The shopper's latest messages, newest last: {text as sent, its bubble, the suggested
  // answers it replied to}, so that a refusal finds what it refused.
  var sent = [];

  // A message refused for speed was not sent: its bubble says so, the suggested answers it
  // replied to come back, and its text goes back into the box if the box is empty, selected,
  // so that Enter sends it again and typing replaces it. Typed onto, refused texts ran
  // together ("delivery cost?returns?") and went out as one. A box the shopper has typed
  // in meanwhile is left alone; the marked bubble still shows the text.
  function takeBack(text) {
    var replies = [];
    for (var i = sent.length - 1; i >= 0; i -= 1) {
      if (sent[i].text === text) {
        var message = sent.splice(i, 1)[0];
        markNotSent(message.item);
        replies = message.replies;
        shopperTurns = Math.max(0, shopperTurns - 1);
        break;
      }
    }
    if (!input.value && text.charAt(0) !== '/') {
      input.value = text;
      input.select();
      checkLength();
    }
    return replies;
  }

  function showHandover(data) {
    if (!data || typeof data.state !== 'string') { return; }
    handoverState = data.state;
    if (session) {
      // Remembered across pages: the next page connects at once (see the end of this file).
      session.handover = withAgent();
      // An offer made before (after a thanks to the bot) was not for this agent's chat,
      // which gets one when it closes; a card still open waits for that.
      if (withAgent() && !session.rated) { session.rating_asked = false; hideRating(); }
      saveSession(session);
    }
    leaveQueue.hidden = data.state !== 'waiting';
    if (data.state === 'waiting') {
      // Whole sentences per case, not fragments: word order differs between languages.
      var hasPosition = typeof data.position === 'number';
      var hasWait = typeof data.estimated_wait_minutes === 'number';
      handoverText.textContent = t(
        hasPosition ? (hasWait ? 'queue_position_wait' : 'queue_position') : (hasWait ? 'queue_wait' : 'queue_waiting'),
        { position: data.position, minutes: data.estimated_wait_minutes });
    } else if (data.state === 'active') {
      handoverText.textContent = data.agent_name ? t('agent_active', { name: data.agent_name }) : t('agent_active_unnamed');
    } else if (data.state === 'closed') {
      handoverText.textContent = t('agent_left');
      askRating();
    } else if (data.state === 'left') {
      handoverText.textContent = t('queue_left');
    } else {
      handoverText.textContent = '';
    }
    handoverBar.hidden = !handoverText.textContent;
  }

  // --- transcript and delete ----------------------------------------------------------------

  function conversationUrl(suffix) {
    return config.serverUrl + '/webhooks/webchat/conversations/' + encodeURIComponent(session.session_id) + suffix;
  }

  function fetchTranscript(format) {
    return fetch(conversationUrl('/transcript?format=' + format), {
      headers: { Authorization: 'Bearer ' + session.session_token }, cache: 'no-store'
    });
  }

  function download(format) {
    if (!session) { setStatus(t('nothing_to_download')); return; }
    setStatus(t('preparing_download'));
    fetchTranscript(format).then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var link = el('a', { href: url, download: t('download_filename') + '-' + session.session_id.slice(0, 8) + '.' + format });
      link.hidden = true;
      document.body.appendChild(link);
      link.click();
      document.body.removeChild(link);
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      setStatus(t('downloaded'));
    }).catch(function () { setStatus(t('download_failed')); });
  }

  function deleteConversation() {
    if (!session) { return; }
    var deletedId = session.session_id;
    setStatus(t('deleting'));
    fetch(conversationUrl(''), {
      method: 'DELETE', headers: { Authorization: 'Bearer ' + session.session_token }
    }).then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      // The server also tells every open tab; this covers a dropped socket.
      if (session && session.session_id === deletedId) { startAfresh(t('deleted')); }
      else { setStatus(t('deleted')); }
    }).catch(function () { setStatus(t('delete_failed')); });
  }

  // --- interaction ----------------------------------------------------------------------------

  function openPanel() {
    panel.hidden = false;
    setUnread(0);
    if (!rating.hidden) { placeRating(); }
    launcher.setAttribute('aria-expanded', 'true');
    launcher.setAttribute('aria-label', t('close_chat'));
    root.classList.add('rwc-open');
    connect();
    input.focus();
  }

  function closePanel() {
    closeMenu();
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-label', t('open_chat'));
    root.classList.remove('rwc-open');
    if (!rating.hidden) { placeRating(); }
    if (shopperTurns >= 2) { askRating(); }
    launcher.focus();
  }

  function openMenu() {
    menu.hidden = false;
    gear.setAttribute('aria-expanded', 'true');
    downloadTxt.focus();
  }

  function closeMenu(returnFocus) {
    if (menu.hidden) { return; }
    menu.hidden = true;
    gear.setAttribute('aria-expanded', 'false');
    if (returnFocus) { gear.focus(); }
  }

  launcher.addEventListener('click', function () { if (panel.hidden) { openPanel(); } else { closePanel(); } });
  closeButton.addEventListener('click', closePanel);
  gear.addEventListener('click', function () { if (menu.hidden) { openMenu(); } else { closeMenu(true); } });
  downloadTxt.addEventListener('click', function () { closeMenu(true); download('txt'); });
  downloadJson.addEventListener('click', function () { closeMenu(true); download('json'); });
  deleteItem.addEventListener('click', function () {
    closeMenu();
    confirmBox.hidden = false;
    confirmNo.focus();
  });
  privacyLink.addEventListener('click', function () { closeMenu(); });
  confirmNo.addEventListener('click', function () { confirmBox.hidden = true; gear.focus(); });
  confirmYes.addEventListener('click', function () { confirmBox.hidden = true; input.focus(); deleteConversation(); });
  leaveQueue.addEventListener('click', function () {
    if (socket && socket.connected) { socket.emit('leave_queue', {}); }
    leaveQueue.hidden = true;
    handoverText.textContent = t('queue_left');
  });

  document.addEventListener('click', function (event) {
    if (!menu.hidden && !menu.contains(event.target) && !gear.contains(event.target)) { closeMenu(); }
  });

  menu.addEventListener('keydown', function (event) {
    var items = Array.prototype.slice.call(menu.querySelectorAll('[role="menuitem"]'));
    var index = items.indexOf(document.activeElement);
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      var step = event.key === 'ArrowDown' ? 1 : -1;
      items[(index + step + items.length) % items.length].focus();
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      items[event.key === 'Home' ? 0 : items.length - 1].focus();
    }
  });

  panel.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') { return; }
    if (!menu.hidden) { closeMenu(true); } else if (!confirmBox.hidden) { confirmBox.hidden = true; gear.focus(); } else { closePanel(); }
  });

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    if (sendText(text)) { input.value = ''; checkLength(); }
  });
  input.addEventListener('input', checkLength);

  // While an agent is awaited or chatting, the shopper may browse on: a new page connects
  // at once, so that what the agent writes shows on its launcher without opening the panel.
  if (session && session.handover) { connect(); }
})();
