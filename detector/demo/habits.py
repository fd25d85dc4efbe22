"""Who works when and who uses which AI service from which day: the shape of the survey, as data.

- About half of the employees use AI on their own initiative (more in ICT and Communicatie, fewer at the
  counters); 60% of them already do when the period starts, the others start during it: adoption grows.
- ChatGPT dominates; Copilot, Gemini, Claude, Perplexity, Le Chat, Grammarly follow far behind; a few
  try DeepSeek (forbidden, and blocked by the proxy from the middle of the period).
- DeepL: most of Communicatie (sanctioned there), some others (tolerated).
- Meeting note-takers (Otter, Fireflies, Read AI, tl;dv, Jamie): a few people, and some meeting rooms.
- Code assistants: GitHub Copilot in ICT (sanctioned) and a rare one elsewhere (forbidden); Cursor;
  scripts in ICT calling the OpenAI API over plain HTTP through the proxy.
- Microsoft 365 Copilot: licensed to a quarter of the staff (sanctioned).
- A few AI tools the catalog does not know (signatures/heldout_ai.txt), to exercise discovery.
A small cast always plays each of these parts, so that even a tiny demo shows every story.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.demo.organisation import (
    BURGERZAKEN,
    COMMUNICATIE,
    DEPARTMENTS,
    FINANCIEN,
    HR,
    ICT,
    JURIDISCHE_ZAKEN,
    RUIMTE,
    SOCIAAL_DOMEIN,
    Organisation,
)
from detector.demo.services import NOTE_TAKERS, SimService

INITIATIVE = 0.5  # share of employees using AI on their own initiative, before department affinity
ALREADY_USING = 0.6  # share of those who do so from the first day
NEVER = np.iinfo(np.int32).max

# Among own-initiative users: probability of using each service.
OWN_CHOICE = {"chatgpt": 0.8, "copilot_bing": 0.15, "gemini": 0.12, "claude": 0.08, "perplexity": 0.07,
              "mistral": 0.04, "deepseek": 0.03, "grammarly": 0.05, "deepl": 0.15}
NOTE_TAKER_SHARE = 0.06
HELD_OUT_SHARE = 0.05
STRAY_COPILOT = 0.01  # own-initiative GitHub Copilot outside ICT
LICENSED_M365 = 0.25
DEVICE_AI = {"chatgpt": 0.4, "note_taker": 0.3, "held_out": 0.1}


@dataclass(frozen=True, eq=False)
class Habits:
    """Per employee (rows) and service (columns): working patterns and AI use."""

    attendance: np.ndarray  # probability of working on a weekday
    start: np.ndarray  # usual start of the working day, seconds after local midnight
    hours: np.ndarray  # usual length of the working day
    browse_rate: np.ndarray  # ordinary requests per working hour
    since: np.ndarray  # [employee, service]: first day index of use; NEVER if not used
    intensity: np.ndarray  # [employee, service]: multiplies the service's visits per day
    cast: np.ndarray  # [employee, service]: plays a part of the story: works every weekday, visits daily
    device_service: np.ndarray  # per unauthenticated device: the AI service it uses, -1 none
    block_from: int  # day index from which the proxy blocks DeepSeek


def _index(services: tuple[SimService, ...]) -> dict[str, int]:
    return {s.key: i for i, s in enumerate(services)}


def build(org: Organisation, services: tuple[SimService, ...], days: int, rng: np.random.Generator) -> Habits:
    employees, count = org.employees, len(services)
    where = _index(services)
    held_out = [i for i, s in enumerate(services) if s.catalog_id is None]
    note_takers = [where[k] for k in NOTE_TAKERS]
    affinity = np.array([d.ai_affinity for d in DEPARTMENTS])[org.department]
    initiative = rng.random(employees) < np.minimum(0.9, INITIATIVE * affinity)
    adopted = np.where(rng.random(employees) < ALREADY_USING, 0, rng.integers(1, max(2, days), employees))
    chooses = rng.random((employees, count))
    since = np.full((employees, count), NEVER, dtype=np.int64)
    in_ict = org.department == ICT

    def own(column: int, mask: np.ndarray) -> None:
        since[mask & initiative, column] = adopted[mask & initiative]

    def licensed(column: int, mask: np.ndarray) -> None:
        since[mask, column] = 0

    for key, share in OWN_CHOICE.items():
        mask = chooses[:, where[key]] < share
        if key == "deepl":
            mask &= org.department != COMMUNICATIE
        own(where[key], mask)
    pick = rng.integers(0, len(note_takers), employees)
    for k, column in enumerate(note_takers):
        own(column, (chooses[:, column] < NOTE_TAKER_SHARE) & (pick == k))
    pick = rng.integers(0, len(held_out), employees)
    for k, column in enumerate(held_out):
        own(column, (chooses[:, column] < HELD_OUT_SHARE) & (pick == k))
    own(where["github_copilot"], (chooses[:, where["github_copilot"]] < STRAY_COPILOT) & ~in_ict)
    own(where["cursor"], (chooses[:, where["cursor"]] < 0.25) & in_ict)
    licensed(where["m365_copilot"], chooses[:, where["m365_copilot"]] < LICENSED_M365)
    licensed(where["deepl"], (chooses[:, where["deepl"]] < 0.8) & (org.department == COMMUNICATIE))
    licensed(where["github_copilot"], (chooses[:, where["github_copilot"]] < 0.6) & in_ict)
    licensed(where["openai_api"], (chooses[:, where["openai_api"]] < 0.15) & in_ict)

    cast = np.zeros((employees, count), dtype=bool)
    def member(department: int, number: int = 0) -> int:
        return int(np.flatnonzero((org.department == department) & ~org.direct)[number])

    parts = [  # (person, service): each part of the story has at least one player
        (member(ICT), "github_copilot"), (member(RUIMTE), "github_copilot"), (member(COMMUNICATIE), "deepl"),
        (member(SOCIAAL_DOMEIN), "chatgpt"), (member(BURGERZAKEN), "deepseek"), (member(HR), "otter"),
        (member(FINANCIEN), "m365_copilot"), (member(JURIDISCHE_ZAKEN), services[held_out[0]].key),
        (member(ICT, 1), "openai_api"), (int(np.flatnonzero(org.direct)[0]), "chatgpt"),
    ]
    for person, key in parts:
        cast[person, where[key]] = True
        since[person, where[key]] = 0

    # Each device draws one number; consecutive slices of [0, 1) pick ChatGPT, a note-taker, an unknown tool.
    device_pick = rng.random(org.devices)
    bounds = np.cumsum([0.0, *DEVICE_AI.values()])
    slice_of = {name: (device_pick >= bounds[i]) & (device_pick < bounds[i + 1]) for i, name in enumerate(DEVICE_AI)}
    device_service = np.full(org.devices, -1, dtype=np.int64)
    device_service[slice_of["chatgpt"]] = where["chatgpt"]
    meeting = slice_of["note_taker"]
    device_service[meeting] = np.array(note_takers)[rng.integers(0, len(note_takers), org.devices)][meeting]
    device_service[slice_of["held_out"]] = held_out[-1]
    device_service[0] = where["fireflies"]  # at least one meeting room records meetings

    part_time = rng.random(employees) < 0.3
    return Habits(
        attendance=np.where(cast.any(axis=1), 1.0, np.where(part_time, 0.7, 0.9)),
        start=np.clip(rng.normal(8.25 * 3600, 0.6 * 3600, employees), 7 * 3600, 10 * 3600),
        hours=np.clip(rng.normal(8.2, 0.6, employees), 6.0, 9.5),
        browse_rate=np.exp(rng.normal(np.log(18.0), 0.4, employees)),
        since=since,
        intensity=np.exp(rng.normal(0.0, 0.5, (employees, count))),
        cast=cast,
        device_service=device_service,
        block_from=max(1, days // 2),
    )
