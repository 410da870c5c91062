"""The shape of a synthetic referral tree, for load tests and benchmarks.

Pure Python, no Django, deterministic for a seed: `generate_campaign` turns
a Shape into database rows. The tree grows like a real invite campaign:
seed members join over the first weeks, every member brings in a few people
after a random delay (most bring none, a few bring dozens), a handful of
"connectors" bring in thousands spread over the whole campaign, and members
who invite quickly form viral chains dozens of generations deep. Members
join in time order, so an inviter always joins before its invitees.
"""

from __future__ import annotations

import math
import random
from array import array
from dataclasses import dataclass, field

# Seed members per member: 3,000 roots in a 1,000,000-member campaign.
ROOT_SHARE = 0.003
# The biggest connectors' direct invitees, as shares of the campaign:
# 30,000 / 20,000 / 15,000 / 12,000 / 10,500 at 1,000,000 members.
TOP_CONNECTORS = (0.03, 0.02, 0.015, 0.012, 0.0105)
# Then one lesser connector per 20,000 members, 4,000 invitees and falling.
CONNECTOR_EVERY = 20_000
CONNECTOR_SHARE = 0.004
# Connectors are picked among the first members to join.
CONNECTOR_POOL_SHARE = 0.05
SEED_WAVE_DAYS = 21.0  # seed codes go out over the first three weeks
CONNECTOR_DAYS = 60.0  # a connector's invitees trickle in over two months
INVITE_DELAY_DAYS = 2.5  # mean delay between joining and an invitee joining
QUICK_SHARE = 0.12  # members who pass their invites on within hours...
QUICK_KEEP = 0.6  # ...whose invitees tend to do the same: viral chains
QUICK_DELAY_DAYS = 0.12  # about three hours: chains reach 50+ generations at 1M
TAIL_CAP = 400  # ordinary members bring in at most this many
ACTIVE_IF_INVITING = 0.55  # members who invite anyone mostly come back
ACTIVE_OTHERWISE = 0.24
ACTIVATION_DELAY_DAYS = 3.0

_TICKS_PER_DAY = 1_000_000  # joining times are kept in ticks of 0.0864 s
_INDEX_BITS = 25
_INDEX_MASK = (1 << _INDEX_BITS) - 1
_MAX_MEMBERS = _INDEX_MASK
_BUCKET_TICKS = _TICKS_PER_DAY // 288  # five minutes


@dataclass
class Shape:
    """A tree in joining order: member i joined i-th; `inviter[i] < i`, or -1 for a seed member.

    Kept in typed arrays (4 or 8 bytes a member, not a Python object each), so
    that 10,000,000 members fit in a few hundred megabytes.
    """

    inviter: array  # of int32
    joined_day: array = field(repr=False)  # of float64: days since the campaign started, ascending
    # Days between joining and activation; NOT_ACTIVATED (negative): not activated (yet).
    activated_after: array = field(repr=False)  # of float64

    def __len__(self) -> int:
        return len(self.inviter)

    def is_activated(self, i: int) -> bool:
        return self.activated_after[i] >= 0.0

    def activated_count(self) -> int:
        return sum(1 for after in self.activated_after if after >= 0.0)

    def depths(self) -> array:
        depth = array("i", bytes(4 * len(self)))
        for i, parent in enumerate(self.inviter):
            if parent >= 0:
                depth[i] = depth[parent] + 1
        return depth

    def invitee_counts(self) -> array:
        counts = array("i", bytes(4 * len(self)))
        for parent in self.inviter:
            if parent >= 0:
                counts[parent] += 1
        return counts

    def downline_sizes(self) -> array:
        # Children join after their inviter, so one backward pass suffices.
        sizes = array("i", bytes(4 * len(self)))
        inviter = self.inviter
        for i in range(len(self) - 1, -1, -1):
            parent = inviter[i]
            if parent >= 0:
                sizes[parent] += sizes[i] + 1
        return sizes

    def activated_invitee_counts(self) -> array:
        counts = array("i", bytes(4 * len(self)))
        for parent, after in zip(self.inviter, self.activated_after, strict=True):
            if parent >= 0 and after >= 0.0:
                counts[parent] += 1
        return counts


NOT_ACTIVATED = -1.0


def connector_fanouts(members: int) -> list[int]:
    """Direct invitees of the campaign's connectors, biggest first."""
    fanouts = [round(members * share) for share in TOP_CONNECTORS]
    lesser = max(1, members // CONNECTOR_EVERY)
    fanouts += [round(members * CONNECTOR_SHARE / k**0.8) for k in range(1, lesser + 1)]
    return [f for f in fanouts if f > 0]


def generate(members: int, seed: int = 1) -> Shape:
    """A realistic referral tree of exactly `members` members."""
    if not 1 <= members <= _MAX_MEMBERS:
        raise ValueError(f"members must be between 1 and {_MAX_MEMBERS:,}")
    rng = random.Random(seed)
    random_ = rng.random
    expovariate = rng.expovariate
    roots = max(1, min(members, round(members * ROOT_SHARE)))
    fanouts = connector_fanouts(members)
    pool = max(len(fanouts), int(members * CONNECTOR_POOL_SHARE))
    # Which members (in the order they start inviting) are connectors.
    connector_at = dict(zip(sorted(rng.sample(range(pool), len(fanouts))), fanouts, strict=True))

    # Members in creation order, with the tick (1/_TICKS_PER_DAY day) they join
    # at. Who invites next is taken from time buckets rather than a heap: the
    # order within one bucket (a few minutes) does not matter for the shape.
    parent = array("i")
    quick = bytearray()
    ticks = array("q")
    buckets: dict[int, list[int]] = {}  # bucket -> members whose invitees are not drawn yet

    for _ in range(roots):
        tick = int(rng.uniform(0.0, SEED_WAVE_DAYS) * _TICKS_PER_DAY)
        buckets.setdefault(tick // _BUCKET_TICKS, []).append(len(ticks))
        parent.append(-1)
        quick.append(random_() < QUICK_SHARE)
        ticks.append(tick)

    log = math.log
    started = 0  # members whose invitees have been drawn
    bucket = 0
    while len(ticks) < members:
        due = buckets.pop(bucket, None)
        if due is None:
            if not buckets:
                # Every line died out (small campaigns): someone invites one more.
                member = rng.randrange(len(ticks))
                tick = max(ticks[member], bucket * _BUCKET_TICKS) + 1
                buckets[tick // _BUCKET_TICKS] = [len(ticks)]
                parent.append(member)
                quick.append(quick[member])
                ticks.append(tick)
                continue  # its bucket may be this very one: look again before moving on
            bucket += 1
            continue
        # `due` grows while we walk it when an invitee joins within the same bucket.
        for member in due:
            if len(ticks) >= members:
                break
            if started in connector_at:
                count, spread, is_quick = connector_at[started], CONNECTOR_DAYS, False
            else:
                count, spread, is_quick = _invitees(random_()), 0.0, quick[member]
            started += 1
            if not count:
                continue
            tick = ticks[member] + 1  # strictly later, so the inviter joins first
            mean = (QUICK_DELAY_DAYS if is_quick else INVITE_DELAY_DAYS) * _TICKS_PER_DAY
            keep = QUICK_KEEP if is_quick else QUICK_SHARE
            for _ in range(min(count, members - len(ticks))):
                if spread:
                    joins = tick + int(random_() * spread * _TICKS_PER_DAY)
                else:
                    joins = tick + int(-log(1.0 - random_()) * mean)  # exponential delay
                slot = joins // _BUCKET_TICKS
                if slot == bucket:
                    due.append(len(ticks))
                elif slot in buckets:
                    buckets[slot].append(len(ticks))
                else:
                    buckets[slot] = [len(ticks)]
                parent.append(member)
                quick.append(random_() < keep)
                ticks.append(joins)
        bucket += 1
    del quick, buckets

    # Joining order is time order (ties by creation). One list of sort keys is
    # the only per-member Python object list, and it shrinks into an array.
    keys = [(t << _INDEX_BITS) | i for i, t in enumerate(ticks)]
    keys.sort()
    order = array("i", (key & _INDEX_MASK for key in keys))
    del keys
    position = array("i", bytes(4 * members))
    for pos, i in enumerate(order):
        position[i] = pos
    inviter = array("i", (position[parent[i]] if parent[i] >= 0 else -1 for i in order))
    del position, parent
    joined_day = array("d", (ticks[i] / _TICKS_PER_DAY for i in order))
    del order, ticks

    activated = array("d", [NOT_ACTIVATED]) * members
    shape = Shape(inviter=inviter, joined_day=joined_day, activated_after=activated)
    inviting = shape.invitee_counts()
    horizon = joined_day[-1]
    for i in range(members):
        if random_() < (ACTIVE_IF_INVITING if inviting[i] else ACTIVE_OTHERWISE):
            after = 1.0 + expovariate(1.0 / ACTIVATION_DELAY_DAYS)
            # Those who joined lately have not come back yet.
            if joined_day[i] + after <= horizon:
                activated[i] = after
    return shape


def _invitees(u: float) -> int:
    """How many people an ordinary member brings in, from a uniform draw in [0, 1)."""
    if u < 0.52:
        return 0
    if u < 0.72:
        return 1
    if u < 0.84:
        return 2
    if u < 0.92:
        return 3
    # A heavy (Pareto) tail: a few members bring in dozens.
    return min(TAIL_CAP, 3 + int((1.0 - (u - 0.92) / 0.08) ** (-1 / 1.5)))


# Human-looking names for synthetic members: 64 given and 62 family names,
# walked so that neighbours in joining order differ in both.
_GIVEN = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Leo",
    "Maya",
    "Nils",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Xavi",
    "Yara",
    "Zoe",
    "Amir",
    "Bea",
    "Carlos",
    "Dana",
    "Emil",
    "Freya",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Marco",
    "Nora",
    "Omar",
    "Priya",
    "Rafa",
    "Sofia",
    "Theo",
    "Una",
    "Vera",
    "Will",
    "Ximena",
    "Yusuf",
    "Zara",
    "Aiko",
    "Bruno",
    "Cleo",
    "Diego",
    "Esme",
    "Felix",
    "Gita",
    "Hamid",
    "Iris",
    "Jun",
    "Kai",
    "Lucia",
    "Mei",
]
_FAMILY = [
    "Abe",
    "Baker",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kim",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quispe",
    "Rossi",
    "Silva",
    "Tanaka",
    "Urban",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Alvarez",
    "Brown",
    "Chen",
    "Diaz",
    "Evans",
    "Fernandes",
    "Gupta",
    "Hansen",
    "Ibrahim",
    "Jovanovic",
    "Kowalski",
    "Larsen",
    "Mendes",
    "Novak",
    "Olsen",
    "Park",
    "Quinn",
    "Reyes",
    "Schmidt",
    "Torres",
    "Ueda",
    "Vogel",
    "Wang",
    "Young",
    "Zimmer",
    "Ahmed",
    "Bauer",
    "Castro",
    "Dahl",
    "Eze",
    "Flores",
    "Gomez",
    "Horvat",
    "Ivanova",
    "Janssen",
    "Khan",
]


def human_name(index: int) -> str:
    """A name for the index-th synthetic member (deterministic, pure)."""
    given = _GIVEN[index % len(_GIVEN)]
    family = _FAMILY[(index * 7 + index // len(_GIVEN)) % len(_FAMILY)]
    return f"{given} {family}"
