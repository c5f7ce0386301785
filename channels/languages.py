"""The conversation languages, and every text the server or an action composes in Python.

Responses in domain/*.yml carry their own translations (conditional variations on the
`language` slot). What is built in code instead (notices of the web chat channel, the
agent-joined line, the parts of sentences actions put into slots: "tomorrow", "2 items",
"on its way", button titles) comes from `TEXTS` here, one entry per language for every
key; tests/channels/test_languages.py fails when a key lacks one. Dates, times and
amounts are formatted by Babel in the language's locale, never with hand-written
month or day names.

Nothing here does I/O at import; the action server and the Rasa server both import it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal

import sqlalchemy as sa
from babel import Locale
from babel.dates import format_date, format_time, get_day_names
from babel.numbers import format_currency
from babel.units import format_unit
from sqlalchemy.engine import Engine

#: The conversation languages (values of the `language` slot); English is the default.
LANGUAGES: tuple[str, ...] = ("en", "sv", "fi", "nb")
DEFAULT_LANGUAGE = "en"
#: The Babel locale each language formats dates, times and amounts in.
LOCALES: dict[str, str] = {"en": "en_GB", "sv": "sv_SE", "fi": "fi_FI", "nb": "nb_NO"}
#: A day in a sentence, without the year ("Thursday 24 December", "torstaina 24.
#: joulukuuta"): Babel supplies the names, the pattern only their order.
DATE_PATTERNS: dict[str, str] = {
    "en": "EEEE d MMMM",
    "sv": "EEEE d MMMM",
    "fi": "EEEE d. MMMM",
    "nb": "EEEE d. MMMM",
}
#: Other names browsers and pages use for our languages (primary subtag, lower case).
ALIASES: dict[str, str] = {"no": "nb", "nn": "nb", "se": "sv"}


def normalise(value: object) -> str | None:
    """Our language code for a page or browser language ("sv-SE" -> "sv", "nb-NO", "no"
    or "nn" -> "nb"), or None for anything else (which is then ignored)."""
    if not isinstance(value, str) or not 1 < len(value) <= 35:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    primary = ALIASES.get(primary, primary)
    return primary if primary in LANGUAGES else None


def language_or_default(value: object) -> str:
    """A slot value as a language code; unknown or unset is English."""
    return value if isinstance(value, str) and value in LANGUAGES else DEFAULT_LANGUAGE


def locale_of(language: object) -> str:
    return LOCALES[language_or_default(language)]


# One entry per key, with every language of LANGUAGES. `{name}` fields are filled by `say`.
TEXTS: dict[str, dict[str, str]] = {
    # --- web chat notices (channels/webchat.py) --------------------------------------
    "notice_password_hidden": {
        "en": "I've hidden what looked like a password in your message, so it isn't stored. "
        "Please never type a password here: neither I nor our staff ever need it.",
        "sv": "Jag har dolt något som såg ut som ett lösenord i ditt meddelande, så det sparas "
        "inte. Skriv aldrig ditt lösenord här: varken jag eller vår personal behöver det.",
        "fi": "Piilotin viestistäsi jotain, mikä näytti salasanalta, joten sitä ei tallenneta. "
        "Älä koskaan kirjoita salasanaa tähän: en minä eikä henkilökuntamme tarvitse sitä.",
        "nb": "Jeg har skjult noe som så ut som et passord i meldingen din, så det lagres ikke. "
        "Skriv aldri passordet ditt her: verken jeg eller de ansatte trenger det.",
    },
    "notice_too_long": {
        "en": "Sorry, that message is too long for me ({limit} characters at most). "
        "Could you shorten it or split it up?",
        "sv": "Förlåt, det meddelandet är för långt för mig (högst {limit} tecken). "
        "Kan du korta det eller dela upp det?",
        "fi": "Anteeksi, viestisi on minulle liian pitkä (enintään {limit} merkkiä). "
        "Voisitko lyhentää sitä tai jakaa sen osiin?",
        "nb": "Beklager, den meldingen er for lang for meg (maks {limit} tegn). "
        "Kan du korte den ned eller dele den opp?",
    },
    "notice_too_fast": {
        "en": "You're typing faster than I can read. Please wait {wait} and send your "
        "message again.",
        "sv": "Du skriver snabbare än jag hinner läsa. Vänta {wait} och skicka ditt "
        "meddelande igen.",
        "fi": "Kirjoitat nopeammin kuin ehdin lukea. Odota {wait} ja lähetä viestisi uudelleen.",
        "nb": "Du skriver raskere enn jeg rekker å lese. Vent {wait} og send meldingen "
        "din på nytt.",
    },
    "notice_too_many_sessions": {
        "en": "Too many new chats were started from here in a short time. Please wait "
        "{wait}; the chat will then start by itself.",
        "sv": "För många nya chattar har startats härifrån på kort tid. Vänta {wait}, "
        "så startar chatten av sig själv.",
        "fi": "Täältä on aloitettu liian monta uutta keskustelua lyhyessä ajassa. Odota "
        "{wait}, niin keskustelu alkaa itsestään.",
        "nb": "For mange nye chatter er startet herfra på kort tid. Vent {wait}, så "
        "starter chatten av seg selv.",
    },
    "notice_no_session": {
        "en": "Sorry, the chat lost its connection. Please reload the page.",
        "sv": "Förlåt, chatten tappade anslutningen. Ladda om sidan.",
        "fi": "Anteeksi, keskustelun yhteys katkesi. Lataa sivu uudelleen.",
        "nb": "Beklager, chatten mistet forbindelsen. Last inn siden på nytt.",
    },
    "wait_few_seconds": {
        "en": "a few seconds",
        "sv": "några sekunder",
        "fi": "muutama sekunti",
        "nb": "noen sekunder",
    },
    "wait_seconds": {
        "en": "about {n} seconds",
        "sv": "ungefär {n} sekunder",
        "fi": "noin {n} sekuntia",
        "nb": "omtrent {n} sekunder",
    },
    "wait_minutes": {
        "en": "about {n} minutes",
        "sv": "ungefär {n} minuter",
        "fi": "noin {n} minuuttia",
        "nb": "omtrent {n} minutter",
    },
    # --- the transcript a shopper downloads (channels/transcript.py) -----------------
    "transcript_title": {
        "en": "Chat transcript",
        "sv": "Chattutskrift",
        "fi": "Keskustelun tallenne",
        "nb": "Chatteutskrift",
    },
    "transcript_conversation": {
        "en": "Conversation: {conversation_id}",
        "sv": "Konversation: {conversation_id}",
        "fi": "Keskustelu: {conversation_id}",
        "nb": "Samtale: {conversation_id}",
    },
    "transcript_downloaded": {
        "en": "Downloaded: {when} (times are UTC)",
        "sv": "Nedladdad: {when} (tider i UTC)",
        "fi": "Ladattu: {when} (ajat UTC-aikaa)",
        "nb": "Lastet ned: {when} (tider i UTC)",
    },
    "transcript_shopper": {"en": "You", "sv": "Du", "fi": "Sinä", "nb": "Du"},
    "transcript_bot": {
        "en": "Assistant (bot)",
        "sv": "Assistent (bot)",
        "fi": "Avustaja (botti)",
        "nb": "Assistent (bot)",
    },
    "transcript_agent": {
        "en": "Agent",
        "sv": "Handläggare",
        "fi": "Asiakaspalvelija",
        "nb": "Kundebehandler",
    },
    "transcript_system": {
        "en": "Notice",
        "sv": "Meddelande",
        "fi": "Ilmoitus",
        "nb": "Merknad",
    },
    "transcript_agent_named": {
        "en": "Agent {name}",
        "sv": "Handläggare {name}",
        "fi": "Asiakaspalvelija {name}",
        "nb": "Kundebehandler {name}",
    },
    "transcript_empty": {
        "en": "(no messages)",
        "sv": "(inga meddelanden)",
        "fi": "(ei viestejä)",
        "nb": "(ingen meldinger)",
    },
    "transcript_rated": {
        "en": "Rated the conversation {rating} of 5",
        "sv": "Gav konversationen betyget {rating} av 5",
        "fi": "Arvioi keskustelun {rating}/5",
        "nb": "Ga samtalen {rating} av 5",
    },
    "transcript_helpful": {
        "en": "Marked an answer as helpful",
        "sv": "Markerade ett svar som hjälpsamt",
        "fi": "Merkitsi vastauksen hyödylliseksi",
        "nb": "Markerte et svar som nyttig",
    },
    "transcript_not_helpful": {
        "en": "Marked an answer as not helpful",
        "sv": "Markerade ett svar som inte hjälpsamt",
        "fi": "Merkitsi vastauksen hyödyttömäksi",
        "nb": "Markerte et svar som ikke nyttig",
    },
    # --- agent desk (handover/desk_routes.py) ----------------------------------------
    "agent_joined": {
        "en": "{agent} from our customer service has joined the chat.",
        "sv": "{agent} från vår kundtjänst har anslutit till chatten.",
        "fi": "{agent} asiakaspalvelustamme liittyi keskusteluun.",
        "nb": "{agent} fra kundeservice har blitt med i chatten.",
    },
    "queue_message_kept": {
        "en": "Thanks, your message is kept for the agent, who will read it on joining. "
        "Until then I won't answer here; press Leave queue if you'd rather carry on with me.",
        "sv": "Tack, ditt meddelande sparas åt handläggaren, som läser det när hen ansluter. "
        "Tills dess svarar jag inte här; tryck på Lämna kön om du hellre fortsätter med mig.",
        "fi": "Kiitos, viestisi säilyy asiakaspalvelijalle, joka lukee sen liittyessään. "
        "Siihen asti en vastaa täällä; paina Poistu jonosta, jos jatkat mieluummin kanssani.",
        "nb": "Takk, meldingen din tas vare på til medarbeideren, som leser den når hen blir "
        "med. Til da svarer jeg ikke her; trykk Forlat køen om du heller vil fortsette med meg.",
    },
    # --- days and times in answers (actions/orders.py, tracking.py, handover/hours.py)
    "day_today": {"en": "today", "sv": "i dag", "fi": "tänään", "nb": "i dag"},
    "day_tomorrow": {"en": "tomorrow", "sv": "i morgon", "fi": "huomenna", "nb": "i morgen"},
    "day_yesterday": {"en": "yesterday", "sv": "i går", "fi": "eilen", "nb": "i går"},
    "day_soon": {"en": "soon", "sv": "snart", "fi": "pian", "nb": "snart"},
    "day_on": {"en": "on {date}", "sv": "{date}", "fi": "{date}", "nb": "{date}"},
    "at_time": {
        "en": "{when} at {time}",
        "sv": "{when} kl. {time}",
        "fi": "{when} klo {time}",
        "nb": "{when} kl. {time}",
    },
    "days_range": {
        "en": "{first} to {last}",
        "sv": "{first}\u2013{last}",
        "fi": "{first}\u2013{last}",
        "nb": "{first}\u2013{last}",
    },
    "hours_zone": {
        "en": "{hours} ({zone} time)",
        "sv": "{hours} (tidszon {zone})",
        "fi": "{hours} (aikavyöhyke {zone})",
        "nb": "{hours} (tidssone {zone})",
    },
    # --- orders and tracking ------------------------------------------------------------
    "latest_update": {
        "en": "Latest update {when}: {description}{where}.",
        "sv": "Senaste uppdatering {when}: {description}{where}.",
        "fi": "Viimeisin päivitys {when}: {description}{where}.",
        "nb": "Siste oppdatering {when}: {description}{where}.",
    },
    "eta_unknown": {
        "en": "The carrier has not given a delivery date yet.",
        "sv": "Transportören har inte angett något leveransdatum än.",
        "fi": "Kuljetusyhtiö ei ole vielä ilmoittanut toimituspäivää.",
        "nb": "Transportøren har ikke oppgitt noen leveringsdato ennå.",
    },
    "eta": {
        "en": "Expected delivery: {when}.",
        "sv": "Beräknad leverans: {when}.",
        "fi": "Arvioitu toimitus: {when}.",
        "nb": "Forventet levering: {when}.",
    },
    "parcel_in_transit": {"en": "on its way", "sv": "på väg", "fi": "matkalla", "nb": "på vei"},
    "parcel_out_for_delivery": {
        "en": "out for delivery today",
        "sv": "ute för utkörning i dag",
        "fi": "jakelussa tänään",
        "nb": "ute for levering i dag",
    },
    "parcel_delivered": {"en": "delivered", "sv": "levererat", "fi": "toimitettu", "nb": "levert"},
    "parcel_delayed": {"en": "delayed", "sv": "försenat", "fi": "myöhässä", "nb": "forsinket"},
    "parcel_at_pickup_point": {
        "en": "waiting for you at the pickup point",
        "sv": "redo att hämtas hos ditt utlämningsställe",
        "fi": "odottaa sinua noutopisteessä",
        "nb": "klar til henting på hentestedet",
    },
    "parcel_returned": {
        "en": "on its way back to us as a return",
        "sv": "på väg tillbaka till oss som retur",
        "fi": "palautumassa meille",
        "nb": "på vei tilbake til oss som retur",
    },
    "items_one": {"en": "1 item", "sv": "1 vara", "fi": "1 tuote", "nb": "1 vare"},
    "items_many": {
        "en": "{count} items",
        "sv": "{count} varor",
        "fi": "{count} tuotetta",
        "nb": "{count} varer",
    },
    # order status (actions/orders.py): where a pick-up point order goes; a leading space,
    # since the sentence follows the delivery date in the status answer
    "order_to_pickup_point": {
        "en": " It goes to the pick-up point you chose.",
        "sv": " Den skickas till utlämningsstället du valde.",
        "fi": " Se toimitetaan valitsemaasi noutopisteeseen.",
        "nb": " Den sendes til hentestedet du valgte.",
    },
    "order_to_named_pickup_point": {
        "en": " It goes to your pick-up point: {name}, {address}.",
        "sv": " Den skickas till ditt utlämningsställe: {name}, {address}.",
        "fi": " Se toimitetaan noutopisteeseesi: {name}, {address}.",
        "nb": " Den sendes til hentestedet ditt: {name}, {address}.",
    },
    "carrier_unknown": {
        "en": "our carrier",
        "sv": "vår transportör",
        "fi": "kuljetusyhtiömme",
        "nb": "vår transportør",
    },
    "tracking_unknown": {
        "en": "not available yet",
        "sv": "inte tillgängligt än",
        "fi": "ei vielä saatavilla",
        "nb": "ikke tilgjengelig ennå",
    },
    "no_scans": {
        "en": "- no scans yet",
        "sv": "- inga skanningar än",
        "fi": "- ei vielä skannauksia",
        "nb": "- ingen skanninger ennå",
    },
    "pickup_hours_unknown": {
        "en": "see the carrier's website",
        "sv": "se transportörens webbplats",
        "fi": "katso kuljetusyhtiön verkkosivuilta",
        "nb": "se transportørens nettside",
    },
    # --- size changes (actions/sizes.py): an order item's button title ------------------
    "item_size": {
        "en": "size {size}",
        "sv": "storlek {size}",
        "fi": "koko {size}",
        "nb": "størrelse {size}",
    },
    # --- products -------------------------------------------------------------------------
    "sold_out_in": {
        "en": " Sold out in {sizes}.",
        "sv": " Slut i {sizes}.",
        "fi": " Loppu koosta {sizes}.",
        "nb": " Utsolgt i {sizes}.",
    },
    "product_line": {
        "en": "- {name}{colour}, article {article}: {price}",
        "sv": "- {name}{colour}, artikel {article}: {price}",
        "fi": "- {name}{colour}, tuote {article}: {price}",
        "nb": "- {name}{colour}, artikkel {article}: {price}",
    },
}


def say(key: str, language: object, **fields: object) -> str:
    """The text of `key` in the conversation's language (English if it has none)."""
    entry = TEXTS[key]
    text = entry.get(language_or_default(language)) or entry[DEFAULT_LANGUAGE]
    return text.format(**fields) if fields else text


def wait_phrase(seconds: float, language: object) -> str:
    """'a few seconds', 'about 30 seconds', 'about 2 minutes', in the language."""
    if seconds <= 10:
        return say("wait_few_seconds", language)
    if seconds < 90:
        return say("wait_seconds", language, n=math.ceil(seconds / 10) * 10)
    return say("wait_minutes", language, n=math.ceil(seconds / 60))


def day_text(
    day: dt.date | None, language: object, today: dt.date | None = None, on: bool = False
) -> str:
    """'today', 'tomorrow' or 'Thursday 26 November' ('on Thursday ...' with `on`, for the
    middle of an English sentence), in the language; Babel names the day and month."""
    if day is None:
        return say("day_soon", language)
    delta = (day - (today or dt.date.today())).days
    if delta in (-1, 0, 1):
        return say({-1: "day_yesterday", 0: "day_today", 1: "day_tomorrow"}[delta], language)
    pattern = DATE_PATTERNS[language_or_default(language)]
    text = format_date(day, pattern, locale=locale_of(language))
    return say("day_on", language, date=text) if on else text


def clock_text(moment: dt.time | dt.datetime, language: object) -> str:
    """'14:05' (en_GB), '14.05' (fi_FI): the locale's short time."""
    return format_time(moment, "short", locale=locale_of(language))


#: Payment methods as the order service names them, in each language's words.
PAYMENT_METHODS: dict[str, dict[str, str]] = {
    "credit card": {"sv": "kreditkort", "fi": "luottokortti", "nb": "kredittkort"},
    "direct debit": {"sv": "autogiro", "fi": "suoraveloitus", "nb": "AvtaleGiro"},
    "invoice": {"sv": "faktura", "fi": "lasku", "nb": "faktura"},
}


def payment_method_text(method: str, language: object) -> str:
    """'credit card' as 'kreditkort' in a Swedish answer; a name such as PayPal, or a
    method not listed, as the service wrote it."""
    code = language_or_default(language)
    return PAYMENT_METHODS.get(method, {}).get(code, method)


def country_text(code: str, language: object) -> str:
    """'SE' as 'Sweden', 'Sverige', 'Ruotsi', 'Sverige': Babel's territory names."""
    locale = Locale.parse(LOCALES[language_or_default(language)])
    return str(locale.territories.get(code.upper(), code))


def money_text(amount: Decimal | float, currency: str, language: object) -> str:
    """'€128.90' (en_GB), '128,90 €' (fi_FI), '1 299,00 kr' (sv_SE for SEK)."""
    return format_currency(amount, currency, locale=locale_of(language))


#: A shop fact that is an amount: "5.95 EUR", "75 EUR" (number, ISO 4217 code).
AMOUNT_FACT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+([A-Z]{3})\s*$")
#: A shop fact that is a length of time: "1 hour", "3 years", "14 days".
DURATION_FACT = re.compile(r"^\s*(\d+)\s+(minute|hour|day|week|month|year)s?\s*$")


def is_localised_fact(value: object) -> bool:
    """Whether a shop fact's value is an amount or a duration that `fact_text` formats."""
    return isinstance(value, str) and bool(AMOUNT_FACT.match(value) or DURATION_FACT.match(value))


def fact_text(value: object, language: object) -> object:
    """A shop fact as the shopper reads it in the language: "5.95 EUR" is '€5.95'
    (en_GB), '5,95 €' (fi_FI); "75 EUR" is '€75', '75 €' (whole amounts without
    decimals); "3 years" is '3 vuotta', '3 år'; "1 hour" is '1 tunti', '1 timme'.
    Any other value is returned as it is."""
    if not isinstance(value, str):
        return value
    amount = AMOUNT_FACT.match(value)
    if amount:
        number = Decimal(amount.group(1))
        if number != number.to_integral_value():
            return money_text(number, amount.group(2), language)
        locale = Locale.parse(locale_of(language))
        pattern = locale.currency_formats["standard"].pattern.replace(".00", "")
        return format_currency(number, amount.group(2), pattern, locale, currency_digits=False)
    duration = DURATION_FACT.match(value)
    if duration:
        count, unit = int(duration.group(1)), duration.group(2)
        # CLDR's unit names in the stated unit, never converted ("90 minutes" stays
        # minutes); Swedish and Norwegian name a day "dygn"/"døgn" there.
        return format_unit(count, f"duration-{unit}", length="long", locale=locale_of(language))
    return value


def day_name(weekday: int, language: object) -> str:
    """The weekday's name (0 = Monday) as a word on its own ("Monday", "måndag",
    "maanantai"), capitalised as the locale writes it."""
    # Babel's weekday keys are 0 = Monday, like Python's.
    names = get_day_names("wide", context="stand-alone", locale=locale_of(language))
    return str(names[weekday])


def conversation_language(engine: Engine, conversation_id: str) -> str | None:
    """The conversation's current language, read from its latest `language` slot event in
    Rasa's tracker store (one indexed row; the session start always sets it), or None
    if the conversation has none yet.

    Rasa's SQLTrackerStore keeps a slot event's name in the `action_name` column.
    """
    query = sa.text(
        "SELECT data FROM events WHERE sender_id = :sender AND type_name = 'slot' "
        "AND action_name = 'language' ORDER BY id DESC LIMIT 1"
    )
    try:
        with engine.connect() as connection:
            row = connection.execute(query, {"sender": conversation_id}).first()
    except sa.exc.SQLAlchemyError:
        return None  # no tracker table here (a queue-only database): no language known
    if row is None:
        return None
    try:
        value = json.loads(row[0]).get("value")
    except (TypeError, ValueError, AttributeError):
        return None
    return value if value in LANGUAGES else None
