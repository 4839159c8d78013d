"""Pure customer-matching core of the customer master: no Django import anywhere in here.

Who placed this order? The core answers from the identity fields of an order (channel account,
device id, phone, receiver name, address) in three steps, each a module:

1. Normalise (:mod:`.normalize`, :mod:`.divisions`, :mod:`.records`).
   ``fingerprint(observation, key=...) -> Fingerprint`` turns an :class:`Observation` (one
   CSV row or one order) into what is stored and compared: an HMAC-SHA256 digest of the E.164
   phone under the merchant's secret ``key`` and a masked phone ("138****5678"), the
   cleaned name, the address parsed into administrative code (from a bundled table generated
   from JioNLP's location dictionary), street, number, community, building, unit, floor and
   room, and a keyed digest of its canonical form. Building blocks:
   ``normalize_phone(raw) -> NormalizedPhone | None``, ``phone_digest(e164, key)``,
   ``mask_phone(raw)``, ``normalize_name(raw) -> NormalizedName | None``,
   ``normalize_address(raw) -> NormalizedAddress``, ``address_digest(address, key)``,
   ``numerals_to_digits(text)``, ``load_admin_divisions().resolve(text) -> AdminMatch``.
   ``fingerprint_to_dict`` / ``fingerprint_from_dict`` store a fingerprint as JSON.

2. Compare and score (:mod:`.compare`, :mod:`.names`, :mod:`.score`).
   ``compare(a, b, settings) -> tuple[Evidence, ...]`` grades each field of a pair into a
   :class:`Signal` (phone same / same after a long gap / masked but fitting / different;
   phone, device or account same, or shared when already filed under several customers;
   name same / compatible (a pinyin handle, nickname, honorific or masked form of it) /
   similar / surname only / different; address same / similar / neighbour / different /
   other district; and receiver mismatch when neither name nor address agrees) with a
   sentence for staff. Names are evidence, not a veto: the buyer's own phone, device and
   account outweigh a receiver name. :class:`MatchRules` holds the weight of each signal,
   ``link_threshold``, ``review_threshold``, the exact keys (phone + name, device + name,
   account + name; optionally address + name) and comparator settings;
   ``MatchRules.from_mapping`` builds it from the JSON an admin edits.
   ``decide(pairs, rules) -> Decision``; ``settled(record, decision)`` is the record as filed
   (marked ``named_other`` when linked despite another receiver name).

3. Block and resolve (:mod:`.blocking`).
   ``blocking_keys(fingerprint) -> tuple[str, ...]`` are the keys a record is filed under
   (phone digest, device, account, address digest, unit signature, province + name);
   ``resolve(fingerprint, source, rules) -> Decision`` compares an observation only with the
   records sharing a key, where ``source`` is any :class:`CandidateSource` (``candidates(keys)
   -> Iterable[(Fingerprint, customer_id)]``): the in-memory :class:`BlockingIndex` or a
   database table of (key, identity). A phone, device or account that already ordered for
   other receivers is a proxy's on the sighting (``carrier_proxy``: a group-buy leader's),
   learned from the data rather than from the channel kind. :class:`Decision` carries ``outcome`` (:class:`Outcome`
   LINK / REVIEW / NEW), ``customer_id``, ``score``, ``reasons`` ("exact key phone + name",
   "same phone 138****5678", "address same building, same room"), ``matched_record_id``,
   ``merge_customer_ids`` (customers this observation proves to be one person) and
   ``comparisons``. :class:`IncrementalResolver` runs a stream: ``add(fingerprint) ->
   Decision``, ``assignments() -> {record_id: customer_id}``, ``reviews``.

A wrong merge leaks one person's orders to another, so doubt ends in REVIEW (kept apart and
flagged), never in LINK. :mod:`.generate` makes seeded test data with ground truth and the
hard negatives real data has, and writes it as the ``import_identities`` CSV, whose reader is
``customers.importing_csv.read_observations_csv``.
"""

from customers.matching.blocking import (
    BlockingIndex,
    CandidateSource,
    IncrementalResolver,
    blocking_keys,
    resolve,
)
from customers.matching.compare import CompareSettings, Evidence, Signal, compare
from customers.matching.normalize import (
    NormalizedAddress,
    NormalizedName,
    NormalizedPhone,
    address_digest,
    mask_phone,
    normalize_address,
    normalize_name,
    normalize_phone,
    phone_digest,
)
from customers.matching.records import (
    Fingerprint,
    Observation,
    fingerprint,
    fingerprint_from_dict,
    fingerprint_to_dict,
)
from customers.matching.score import Decision, MatchRules, Outcome, decide, settled

__all__ = [
    "BlockingIndex",
    "CandidateSource",
    "CompareSettings",
    "Decision",
    "Evidence",
    "Fingerprint",
    "IncrementalResolver",
    "MatchRules",
    "NormalizedAddress",
    "NormalizedName",
    "NormalizedPhone",
    "Observation",
    "Outcome",
    "Signal",
    "address_digest",
    "blocking_keys",
    "compare",
    "decide",
    "fingerprint",
    "fingerprint_from_dict",
    "fingerprint_to_dict",
    "mask_phone",
    "normalize_address",
    "normalize_name",
    "normalize_phone",
    "phone_digest",
    "resolve",
    "settled",
]
