//! Sortable unique event ids in the ULID layout: 48 bits of Unix milliseconds, then
//! 80 random bits, written as 26 Crockford base32 characters.
//!
//! Ids sort by time as strings and as numbers. The generator is monotonic: within one
//! millisecond (or when the clock steps back) it increments the last id instead of
//! drawing a new random part, so ids from one generator never go backwards.

use std::fmt;
use std::str::FromStr;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ENCODED_LEN: usize = 26;
const RANDOM_BITS: u32 = 80;
const RANDOM_MASK: u128 = (1u128 << RANDOM_BITS) - 1;

/// A unique, time-sortable event id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(u128);

impl EventId {
    /// The smallest id: every real id sorts after it.
    pub const MIN: EventId = EventId(0);

    /// Builds an id from its 128-bit value.
    pub fn from_u128(value: u128) -> Self {
        EventId(value)
    }

    /// The id's 128-bit value.
    pub fn as_u128(self) -> u128 {
        self.0
    }

    /// The Unix time in milliseconds carried in the id.
    pub fn timestamp_ms(self) -> u64 {
        (self.0 >> RANDOM_BITS) as u64
    }

    /// Builds an id from a millisecond time and an 80-bit random part (higher bits ignored).
    pub fn from_parts(unix_ms: u64, random: u128) -> Self {
        let time_part = u128::from(unix_ms & 0xFFFF_FFFF_FFFF) << RANDOM_BITS;
        EventId(time_part | (random & RANDOM_MASK))
    }
}

/// An id's 26-character text, on the stack: for hot paths that would otherwise
/// allocate a `String` per event only to copy it somewhere else.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EncodedEventId([u8; ENCODED_LEN]);

impl EncodedEventId {
    /// The text, e.g. `01JD0000000000000000000000`.
    pub fn as_str(&self) -> &str {
        // Every byte comes from ALPHABET, which is ASCII, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for EncodedEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EventId {
    /// The id's text without allocating.
    pub fn encode(self) -> EncodedEventId {
        let mut out = [0u8; ENCODED_LEN];
        let mut value = self.0;
        for slot in out.iter_mut().rev() {
            *slot = ALPHABET[(value & 0x1F) as usize];
            value >>= 5;
        }
        EncodedEventId(out)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode().as_str())
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({self})")
    }
}

/// Why a string is not an event id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseEventIdError {
    /// The string is not 26 characters long.
    #[error("an event id has 26 characters, this one has {0}")]
    Length(usize),
    /// A character outside Crockford's base32 alphabet.
    #[error("an event id uses Crockford base32; {0:?} is not in it")]
    Character(char),
    /// The value needs more than 128 bits (the first character is above 7).
    #[error("an event id's first character is 0-7")]
    Overflow,
}

impl FromStr for EventId {
    type Err = ParseEventIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let char_count = text.chars().count();
        if char_count != ENCODED_LEN {
            return Err(ParseEventIdError::Length(char_count));
        }
        let mut value: u128 = 0;
        for (index, character) in text.chars().enumerate() {
            let digit = decode_char(character).ok_or(ParseEventIdError::Character(character))?;
            if index == 0 && digit > 7 {
                return Err(ParseEventIdError::Overflow);
            }
            value = (value << 5) | u128::from(digit);
        }
        Ok(EventId(value))
    }
}

fn decode_char(character: char) -> Option<u8> {
    let upper = character.to_ascii_uppercase();
    let folded = match upper {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&candidate| char::from(candidate) == folded)
        .map(|position| position as u8)
}

/// Hands out strictly increasing ids from caller-supplied time and randomness.
#[derive(Debug, Default, Clone)]
pub struct EventIdGenerator {
    last: Option<EventId>,
}

impl EventIdGenerator {
    /// A generator that has issued nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A generator that continues after `last` (for example the newest stored id),
    /// so ids stay increasing across restarts even if the clock went back.
    pub fn after(last: EventId) -> Self {
        EventIdGenerator { last: Some(last) }
    }

    /// The next id for `unix_ms`; `random` is used only when the time moved forward.
    pub fn next(&mut self, unix_ms: u64, random: u128) -> EventId {
        let candidate = EventId::from_parts(unix_ms, random);
        let id = match self.last {
            Some(last) if candidate <= last => EventId(last.0.wrapping_add(1)),
            _ => candidate,
        };
        self.last = Some(id);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_value_round_trips() {
        let id = EventId::from_parts(1_732_615_200_123, 0x1234_5678_9ABC_DEF0_1234);
        let text = id.to_string();
        assert_eq!(text.len(), 26);
        assert_eq!(text.parse::<EventId>(), Ok(id));
        assert_eq!(id.timestamp_ms(), 1_732_615_200_123);
        assert_eq!(EventId::MIN.to_string(), "00000000000000000000000000");
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!("abc".parse::<EventId>(), Err(ParseEventIdError::Length(3)));
        assert_eq!(
            "8ZZZZZZZZZZZZZZZZZZZZZZZZZ".parse::<EventId>(),
            Err(ParseEventIdError::Overflow)
        );
        assert_eq!(
            "0000000000000000000000000U".parse::<EventId>(),
            Err(ParseEventIdError::Character('U'))
        );
        assert!("0000000000000000000000000é".parse::<EventId>().is_err());
    }

    #[test]
    fn generator_is_monotonic_when_the_clock_stalls_or_steps_back() {
        let mut generator = EventIdGenerator::new();
        let first = generator.next(1000, u128::MAX);
        let second = generator.next(1000, 0);
        let third = generator.next(999, 5);
        let fourth = generator.next(1001, 0);
        assert!(first < second && second < third && third < fourth);
        assert_eq!(fourth.timestamp_ms(), 1001);
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(value in any::<u128>()) {
            let id = EventId::from_u128(value);
            prop_assert_eq!(id.to_string().parse::<EventId>(), Ok(id));
        }

        #[test]
        fn string_order_matches_numeric_order(a in any::<u128>(), b in any::<u128>()) {
            let (left, right) = (EventId::from_u128(a), EventId::from_u128(b));
            prop_assert_eq!(left.cmp(&right), left.to_string().cmp(&right.to_string()));
        }

        #[test]
        fn parser_never_panics(text in "\\PC{0,40}") {
            let _ = text.parse::<EventId>();
        }

        #[test]
        fn generator_never_goes_backwards(steps in proptest::collection::vec((0u64..5_000, any::<u128>()), 1..200)) {
            let mut generator = EventIdGenerator::new();
            let mut previous = EventId::MIN;
            for (unix_ms, random) in steps {
                let id = generator.next(unix_ms, random);
                prop_assert!(id > previous);
                previous = id;
            }
        }
    }
}
