/*
 * Chat widget of the retail assistant. Plain JavaScript, no build step.
 *
 * Embed with one tag (the attributes are optional):
 *   <script src="/widget.js" data-server-url="http://localhost:5005"
 *           data-privacy-url="/privacy" data-title="Chat with us" defer></script>
 *
 * Loads widget.css and the socket.io client from the directory widget.js came from.
 * The server issues the session; the widget keeps only its id and token in localStorage
 * (no message text), resumes with them after a reload or a reconnect, and re-reads the
 * history from the transcript route. Every message is rendered with textContent: text
 * that looks like HTML is shown, never interpreted.
 *
 * Feedback: every bot answer has a thumbs up/down pair (one vote per message, changeable;
 * the buttons say aria-pressed and a live region announces the saved vote). A 1-5 rating
 * with an optional comment is offered once per conversation when it ends: after an agent
 * closes the chat, after a goodbye or thanks once the shopper has written at least two
 * messages, or when the panel is closed after two messages. It is a card beside the chat,
 * never a dialog: ignoring it, or "No thanks", leaves everything as it was. Both go to
 * POST /webhooks/webchat/conversations/<id>/feedback.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script || window.__retailWebchatLoaded) { return; }
  window.__retailWebchatLoaded = true;

  var base = new URL('.', script.src).href;
  var config = {
    serverUrl: (script.dataset.serverUrl || 'http://localhost:5005').replace(/\/+$/, ''),
    privacyUrl: script.dataset.privacyUrl || new URL('/privacy', script.src).href,
    title: script.dataset.title || 'Chat with us',
    maxChars: parseInt(script.dataset.maxChars || '2000', 10),
    storageKey: 'retail-assistant-webchat'
  };
  var SESSION_START = '/session_start';
  var MAX_COMMENT_CHARS = 1000;
  // A goodbye or a thanks (English and German, the shop's languages) ends a bot chat.
  var ENDING = /^\W*(bye|goodbye|good bye|see you|thanks?|thank you|thx|ty|cheers|danke|tsch(u|\u00fc)ss)\b/i;
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
          rating_asked: !!session.rating_asked
        }));
      } else {
        window.localStorage.removeItem(config.storageKey);
      }
    } catch (e) { /* the chat still works for this page view */ }
  }

  function formatTime(date) {
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  // --- DOM ------------------------------------------------------------------------------

  var css = el('link', { rel: 'stylesheet', href: base + 'widget.css' });
  document.head.appendChild(css);

  var root = el('div', { className: 'rwc-root' });
  var launcher = el('button', {
    type: 'button', className: 'rwc-launcher', 'aria-expanded': 'false',
    'aria-controls': 'rwc-panel', 'aria-label': 'Open chat'
  });
  launcher.appendChild(el('span', { className: 'rwc-launcher-icon', 'aria-hidden': 'true' }));

  var panel = el('section', {
    id: 'rwc-panel', className: 'rwc-panel', role: 'dialog', 'aria-label': config.title
  });
  panel.hidden = true;

  var header = el('header', { className: 'rwc-header' });
  var heading = el('h2', { className: 'rwc-title' }, config.title);
  var gear = el('button', {
    type: 'button', className: 'rwc-icon-button rwc-gear', 'aria-haspopup': 'menu',
    'aria-expanded': 'false', 'aria-controls': 'rwc-menu', 'aria-label': 'Chat settings'
  }, '\u2699');
  var closeButton = el('button', {
    type: 'button', className: 'rwc-icon-button rwc-close', 'aria-label': 'Close chat'
  }, '\u00d7');
  header.appendChild(heading);
  header.appendChild(gear);
  header.appendChild(closeButton);

  var menu = el('div', { id: 'rwc-menu', className: 'rwc-menu', role: 'menu', 'aria-label': 'Chat settings' });
  menu.hidden = true;
  var downloadTxt = el('button', { type: 'button', role: 'menuitem', className: 'rwc-menuitem', 'data-action': 'download-txt' }, 'Download conversation (.txt)');
  var downloadJson = el('button', { type: 'button', role: 'menuitem', className: 'rwc-menuitem', 'data-action': 'download-json' }, 'Download conversation (.json)');
  var deleteItem = el('button', { type: 'button', role: 'menuitem', className: 'rwc-menuitem rwc-danger', 'data-action': 'delete' }, 'Delete conversation');
  var privacyLink = el('a', { role: 'menuitem', className: 'rwc-menuitem', href: config.privacyUrl, target: '_blank', rel: 'noopener' }, 'Privacy notice');
  [downloadTxt, downloadJson, deleteItem, privacyLink].forEach(function (item) { menu.appendChild(item); });

  var confirmBox = el('div', { className: 'rwc-confirm', role: 'alertdialog', 'aria-labelledby': 'rwc-confirm-text' });
  confirmBox.hidden = true;
  confirmBox.appendChild(el('p', { id: 'rwc-confirm-text' }, 'Delete this conversation for good? This cannot be undone.'));
  var confirmYes = el('button', { type: 'button', className: 'rwc-button rwc-danger', 'data-action': 'confirm-delete' }, 'Delete');
  var confirmNo = el('button', { type: 'button', className: 'rwc-button', 'data-action': 'cancel-delete' }, 'Cancel');
  confirmBox.appendChild(confirmYes);
  confirmBox.appendChild(confirmNo);

  var handoverBar = el('div', { className: 'rwc-handover', role: 'status' });
  handoverBar.hidden = true;
  var handoverText = el('span', { className: 'rwc-handover-text' });
  var leaveQueue = el('button', { type: 'button', className: 'rwc-button rwc-small' }, 'Leave queue');
  handoverBar.appendChild(handoverText);
  handoverBar.appendChild(leaveQueue);

  var log = el('ol', {
    className: 'rwc-messages', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions',
    'aria-label': 'Conversation', tabindex: '0'
  });
  var typing = el('div', { className: 'rwc-typing', 'aria-hidden': 'true' });
  typing.appendChild(el('span', { className: 'rwc-dot' }));
  typing.appendChild(el('span', { className: 'rwc-dot' }));
  typing.appendChild(el('span', { className: 'rwc-dot' }));
  typing.appendChild(el('span', { className: 'rwc-sr-only' }, 'The assistant is typing'));
  typing.hidden = true;
  var quickReplies = el('div', { className: 'rwc-quick-replies', role: 'group', 'aria-label': 'Suggested answers' });

  var status = el('div', { className: 'rwc-status', role: 'status', 'aria-live': 'polite' });
  // Screen readers hear what a feedback button did; nothing is shown.
  var announcer = el('div', { className: 'rwc-sr-only rwc-announcer', role: 'status', 'aria-live': 'polite' });

  // The end-of-chat rating: a card, not a dialog (the chat stays usable around it).
  var rating = el('div', { className: 'rwc-rating', role: 'group', 'aria-labelledby': 'rwc-rating-title' });
  rating.hidden = true;
  var ratingTitle = el('p', { id: 'rwc-rating-title', className: 'rwc-rating-title' }, 'How was this chat?');
  var ratingScale = el('div', { className: 'rwc-rating-scale' });
  var ratingButtons = [1, 2, 3, 4, 5].map(function (n) {
    var b = el('button', {
      type: 'button', className: 'rwc-star', 'aria-pressed': 'false',
      'aria-label': n + ' of 5', 'data-rating': String(n)
    }, String(n));
    ratingScale.appendChild(b);
    return b;
  });
  var commentId = 'rwc-rating-comment';
  var commentLabel = el('label', { 'for': commentId, className: 'rwc-rating-label' }, 'Anything to add? (optional)');
  var comment = el('textarea', { id: commentId, className: 'rwc-rating-comment', rows: '2', maxlength: String(MAX_COMMENT_CHARS) });
  var ratingSend = el('button', { type: 'button', className: 'rwc-button rwc-small', 'data-action': 'send-rating' }, 'Send rating');
  var ratingSkip = el('button', { type: 'button', className: 'rwc-button rwc-small rwc-quiet', 'data-action': 'skip-rating' }, 'No thanks');
  var ratingMore = el('div', { className: 'rwc-rating-more' });
  ratingMore.hidden = true;
  [commentLabel, comment, ratingSend].forEach(function (n) { ratingMore.appendChild(n); });
  [ratingTitle, ratingScale, ratingMore, ratingSkip].forEach(function (n) { rating.appendChild(n); });

  var form = el('form', { className: 'rwc-form' });
  var inputId = 'rwc-input';
  form.appendChild(el('label', { 'for': inputId, className: 'rwc-sr-only' }, 'Your message'));
  var input = el('input', {
    id: inputId, type: 'text', className: 'rwc-input', autocomplete: 'off',
    maxlength: String(config.maxChars), placeholder: 'Type your message\u2026'
  });
  var send = el('button', { type: 'submit', className: 'rwc-send' }, 'Send');
  form.appendChild(input);
  form.appendChild(send);

  [header, menu, confirmBox, handoverBar, log, typing, quickReplies, status, announcer, form].forEach(function (node) {
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
    var who = sender === 'shopper' ? 'You' : sender === 'agent'
      ? (options.name ? options.name + ' (agent)' : 'Agent') : sender === 'system' ? 'Notice' : 'Assistant (bot)';
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

  // --- feedback ---------------------------------------------------------------------------

  var votes = {};  // message_id -> true/false, as the server has it

  function voteButtons(messageId) {
    var group = el('div', { className: 'rwc-vote', role: 'group', 'aria-label': 'Was this answer helpful?', 'data-message-id': messageId });
    [[true, '\ud83d\udc4d', 'Helpful'], [false, '\ud83d\udc4e', 'Not helpful']].forEach(function (spec) {
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
      announce(helpful ? 'Thanks, marked as helpful.' : 'Thanks, marked as not helpful.');
    }).catch(function () {
      announce('Sorry, your vote could not be saved.');
      setStatus('Sorry, your vote could not be saved. Please try again.');
    });
  }

  var shopperTurns = 0;
  var chosenRating = 0;

  function askRating() {
    if (!session || session.rating_asked || !rating.hidden) { return; }
    session.rating_asked = true;
    saveSession(session);
    chosenRating = 0;
    comment.value = '';
    ratingMore.hidden = true;
    ratingButtons.forEach(function (b) { b.setAttribute('aria-pressed', 'false'); });
    placeRating();
    rating.hidden = false;
    announce('How was this chat? You can rate it from 1 to 5, or ignore this.');
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
      announce(chosenRating + ' of 5 chosen. Add a comment if you like, then send.');
    });
  });
  ratingSend.addEventListener('click', function () {
    if (!chosenRating) { return; }
    var body = { rating: chosenRating };
    var text = comment.value.trim();
    if (text) { body.comment = text.slice(0, MAX_COMMENT_CHARS); }
    postFeedback(body).then(function () {
      hideRating('Thank you for your rating.');
    }).catch(function () {
      announce('Sorry, your rating could not be saved.');
      setStatus('Sorry, your rating could not be saved. Please try again.');
    });
  });
  ratingSkip.addEventListener('click', function () { hideRating(); if (!panel.hidden) { input.focus(); } });

  function setQuickReplies(replies) {
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

  function clearMessages() {
    while (log.firstChild) { log.removeChild(log.firstChild); }
    setQuickReplies([]);
    showTyping(false);
    handoverBar.hidden = true;
    rating.hidden = true;
    votes = {};
    shopperTurns = 0;
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
      setStatus('The chat could not load. Please try again later.');
    });
  }

  function startSocket() {
    if (socket) { return; }
    setStatus('Connecting\u2026');
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
      setStatus('Connection lost. Reconnecting\u2026');
    });
    socket.on('connect_error', function () {
      socket.io.opts.transports = ['polling', 'websocket'];
      setStatus('Cannot reach the chat. Retrying\u2026');
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
        rating_asked: !changed && !!(session && session.rating_asked)
      };
      saveSession(session);
      send.disabled = false;
      if (!data.resumed) {
        if (changed) { clearMessages(); }
        if (refused) { setStatus('Your earlier chat has ended, so a new one has started.'); }
        // A brand-new session: ask for the bot's introduction before the shopper types.
        socket.emit('user_uttered', { message: SESSION_START });
        showTyping(true);
      } else {
        // Resumed after a reload or a dropped connection: show what the server has,
        // including anything said while this tab was away.
        loadHistory();
      }
    });

    socket.on('bot_uttered', function (data) {
      if (!data) { return; }
      showTyping(false);
      if (data.notice === 'too_many_sessions') {
        // No session was started: ask again once the server says there is room.
        askedForNew = false;
        retrySessionAfter(data.retry_after);
      } else if (data.notice === 'too_fast' && typeof data.refused === 'string' &&
                 !input.value && data.refused.charAt(0) !== '/') {
        // The message was not taken: put it back so that sending again is one key press.
        input.value = data.refused;
      }
      if (typeof data.text === 'string' && data.text) {
        var sender = data.sender === 'agent' ? 'agent' : data.sender === 'system' ? 'system' : 'bot';
        addMessage(sender, data.text, { name: data.agent_name, messageId: data.message_id });
      }
      setQuickReplies(data.quick_replies || (data.buttons || []));
    });

    socket.on('handover_status', showHandover);

    socket.on('conversation_deleted', function (data) {
      if (data && session && data.conversation_id && data.conversation_id !== session.session_id) { return; }
      startAfresh('The conversation was deleted.');
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
    socket.emit('session_request', session ? {
      session_id: session.session_id, session_token: session.session_token
    } : {});
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
      clearMessages();
      data.messages.forEach(function (m) {
        // Earlier votes and ratings are not lines of the chat: they set the buttons.
        if (m.feedback && typeof m.feedback.message_id === 'string') {
          votes[m.feedback.message_id] = !!m.feedback.helpful;
        } else if (m.feedback && session) {
          session.rating_asked = true;
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
    }).catch(function () { setStatus('Could not load the earlier messages.'); });
  }

  function sendText(text, shown) {
    if (!socket || !socket.connected || !session) {
      setStatus('Not connected yet. Please wait a moment.');
      return false;
    }
    if (text.length > config.maxChars) {
      setStatus('That message is too long (' + config.maxChars + ' characters at most).');
      return false;
    }
    addMessage('shopper', shown || text);
    setQuickReplies([]);
    socket.emit('user_uttered', { message: text });
    showTyping(true);
    if (ENDING.test(shown || text) && shopperTurns >= 2) { askRating(); }
    shopperTurns += 1;
    return true;
  }

  function showHandover(data) {
    if (!data || typeof data.state !== 'string') { return; }
    leaveQueue.hidden = data.state !== 'waiting';
    if (data.state === 'waiting') {
      var text = 'Waiting for an agent';
      if (typeof data.position === 'number') { text += ': you are number ' + data.position + ' in the queue'; }
      if (typeof data.estimated_wait_minutes === 'number') { text += ', about ' + data.estimated_wait_minutes + ' min'; }
      handoverText.textContent = text + '.';
    } else if (data.state === 'active') {
      handoverText.textContent = 'You are chatting with ' + (data.agent_name || 'an agent') + '.';
    } else if (data.state === 'closed') {
      handoverText.textContent = 'The agent has left the chat. The assistant is back.';
      askRating();
    } else if (data.state === 'left') {
      handoverText.textContent = 'You left the queue. The assistant is here to help.';
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
    if (!session) { setStatus('There is no conversation to download yet.'); return; }
    setStatus('Preparing your download\u2026');
    fetchTranscript(format).then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var link = el('a', { href: url, download: 'conversation-' + session.session_id.slice(0, 8) + '.' + format });
      link.hidden = true;
      document.body.appendChild(link);
      link.click();
      document.body.removeChild(link);
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      setStatus('Conversation downloaded.');
    }).catch(function () { setStatus('Sorry, the download failed. Please try again.'); });
  }

  function deleteConversation() {
    if (!session) { return; }
    var deletedId = session.session_id;
    setStatus('Deleting\u2026');
    fetch(conversationUrl(''), {
      method: 'DELETE', headers: { Authorization: 'Bearer ' + session.session_token }
    }).then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      // The server also tells every open tab; this covers a dropped socket.
      if (session && session.session_id === deletedId) { startAfresh('The conversation was deleted.'); }
      else { setStatus('The conversation was deleted.'); }
    }).catch(function () { setStatus('Sorry, the conversation could not be deleted. Please try again.'); });
  }

  // --- interaction ----------------------------------------------------------------------------

  function openPanel() {
    panel.hidden = false;
    if (!rating.hidden) { placeRating(); }
    launcher.setAttribute('aria-expanded', 'true');
    launcher.setAttribute('aria-label', 'Close chat');
    root.classList.add('rwc-open');
    connect();
    input.focus();
  }

  function closePanel() {
    closeMenu();
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-label', 'Open chat');
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
    handoverText.textContent = 'You left the queue. The assistant is here to help.';
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
    if (sendText(text)) { input.value = ''; }
  });
})();
