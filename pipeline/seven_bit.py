"""Bytes as the text of a JavaScript string literal at 7 bits per UTF-8 byte (base64 takes 6).

The explorer's data travel as classic scripts (render/page_levels.py), so their bytes must be text a
script's "..." literal and an inline <script> element hold as they are. The bytes are read as a stream
of 7-bit groups (the last one padded with zero bits); each group is one ASCII character, except the
six that cannot stand in such a literal: NUL, LF, CR, '"', '<' (which could end or open an inline
script's tags) and '\\'. Such a group q (its place in UNSAFE) and the group after it share one 2-byte
UTF-8 character, the code point 256 + 128 q + (the next group); a lone unsafe group at the very end is
256 + 128 * 6 + (its value). So 7 bits cost 8 on disk (base64: 6 cost 8): the text is 8/7 of the bytes,
plus one byte per character that pairs a group with the next. Decoding yields floor(7 g / 8) bytes of
g groups, which is exactly the bytes encoded. The page's twin is fromText in templates/static/explorer-data.js.
"""

from __future__ import annotations

import numpy as np

UNSAFE = (0, 10, 13, 34, 60, 92)  # NUL, LF, CR, '"', '<', '\\'
PAIR_BASE = 256  # the first code point of the 2-byte characters (all below 0x800, so 2 bytes in UTF-8)
LONE = len(UNSAFE)  # the pair index of a lone unsafe group at the end
_PLACE = np.full(256, -1, np.int16)
_PLACE[list(UNSAFE)] = np.arange(len(UNSAFE))


def _groups(raw: np.ndarray) -> np.ndarray:
    """Return the 7-bit groups of bytes (the last padded with zero bits): each 7 bytes give 8 groups."""
    rows = np.zeros((-(-raw.size // 7), 7), np.uint8)
    rows.ravel()[:raw.size] = raw
    out = np.empty((len(rows), 8), np.uint8)
    for j in range(8):  # group j: the low j bits of byte j - 1, then the high 7 - j bits of byte j
        high = rows[:, j] >> (j + 1) if j < 7 else 0
        out[:, j] = ((rows[:, j - 1] & ((1 << j) - 1)) << (7 - j) if j else 0) | high
    return out.ravel()[:-(-raw.size * 8 // 7)]


def _bytes(groups: np.ndarray) -> bytes:
    """Return the whole bytes that 7-bit groups hold (the inverse of _groups)."""
    rows = np.zeros((-(-groups.size // 8), 8), np.uint8)
    rows.ravel()[:groups.size] = groups
    out = np.empty((len(rows), 7), np.uint8)
    for j in range(7):  # byte j: group j's low 7 - j bits, then group j + 1's high j + 1 bits
        out[:, j] = (rows[:, j] << (j + 1)) | (rows[:, j + 1] >> (6 - j))
    return out.ravel()[:groups.size * 7 // 8].tobytes()


def encode(data: bytes) -> bytes:
    """Return the UTF-8 text (as bytes) that carries `data` at 7 bits per byte, safe inside a "..." literal."""
    groups = _groups(np.frombuffer(bytes(data), np.uint8))
    unsafe = np.flatnonzero(_PLACE[groups] >= 0)
    # In a run of unsafe groups the first leads a pair, the second is its partner, the third leads again...
    starts = np.r_[True, np.diff(unsafe) != 1] if unsafe.size else np.zeros(0, bool)
    run_start = np.maximum.accumulate(np.where(starts, unsafe, 0))
    leads = unsafe[(unsafe - run_start) % 2 == 0]
    lone = leads.size and leads[-1] == groups.size - 1  # an unsafe last group has no partner
    out = np.concatenate([groups, np.zeros(1 if lone else 0, np.uint8)])
    codes = PAIR_BASE + 128 * _PLACE[groups[leads]].astype(np.int32) + out[leads + 1]  # a lone group's: 0 yet
    if lone:
        codes[-1] = PAIR_BASE + 128 * LONE + int(groups[-1])
    out[leads] = 0xC0 | (codes >> 6)
    out[leads + 1] = 0x80 | (codes & 0x3F)
    return out.tobytes()


def decode(text: bytes | str) -> bytes:
    """Return the bytes that encode() turned into `text` (UTF-8 bytes or str)."""
    raw = np.frombuffer(text.encode("utf-8") if isinstance(text, str) else bytes(text), np.uint8)
    high = np.flatnonzero(raw >= 0x80)
    leads, follows = high[0::2], high[1::2]
    if (leads.size != follows.size or (follows != leads + 1).any() or (raw[leads] < 0xC4).any()
            or (raw[leads] >= 0xE0).any() or (raw[follows] >= 0xC0).any() or (_PLACE[raw] >= 0).any()):
        raise ValueError("not 7-bit explorer text: characters outside the code")
    codes = ((raw[leads].astype(np.int32) & 0x1F) << 6 | (raw[leads + 1] & 0x3F)) - PAIR_BASE
    place = codes >> 7
    if (place > LONE).any() or (place[:-1] == LONE).any() or (place.size and place[-1] == LONE
                                                               and leads[-1] + 2 != raw.size):
        raise ValueError("not 7-bit explorer text: a lone group before the end")
    groups = raw.copy()
    groups[leads] = np.asarray(UNSAFE, np.uint8)[np.minimum(place, LONE - 1)]
    groups[leads + 1] = codes & 0x7F
    if place.size and place[-1] == LONE:
        groups = np.r_[groups[:-2], np.uint8(codes[-1] & 0x7F)]
    return _bytes(groups)
