//! A synthetic chat corpus with the shape of real text, for the conformance suite's
//! large case and the benchmark: word frequencies follow Zipf's law over a vocabulary
//! of made-up words (rank 0 the most common), messages are mostly short, conversations
//! are of very different sizes, and a tenth of the messages carry a file.
//!
//! Deterministic for a seed, so a benchmark figure or a failing case can be reproduced.

use messaging_core::ids::{ConversationId, MessageId, UserId};
use messaging_core::search::SearchDocument;
use messaging_core::time::Timestamp;

/// Zipf's exponent for word ranks (English text is close to 1).
const ZIPF: f64 = 1.07;
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ba", "de", "fi", "go", "ha", "ju", "pe", "qui", "ro", "su", "ta",
    "ze",
];

/// xorshift64: small and deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The generator: an iterator of [`SearchDocument`]s, oldest first.
pub struct Corpus {
    rng: Rng,
    vocabulary: Vec<String>,
    /// Cumulative Zipf weights of the vocabulary, ending at 1.
    cumulative: Vec<f64>,
    conversations: Vec<ConversationId>,
    seqs: Vec<u64>,
    senders: usize,
    start_ms: i64,
    step_ms: i64,
    remaining: usize,
    produced: usize,
}

impl Corpus {
    /// `messages` messages in `conversations` conversations from `senders` people,
    /// spread evenly over 60 days from 2026-11-01.
    pub fn new(seed: u64, messages: usize, conversations: usize, senders: usize) -> Self {
        let vocabulary = vocabulary(5_000);
        let weights: Vec<f64> = (0..vocabulary.len())
            .map(|r| 1.0 / ((r + 1) as f64).powf(ZIPF))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        let span_ms: i64 = 60 * 24 * 3_600_000;
        Self {
            rng: Rng(seed | 1),
            vocabulary,
            cumulative,
            conversations: (0..conversations.max(1)).map(|_| ConversationId::generate()).collect(),
            seqs: vec![0; conversations.max(1)],
            senders: senders.max(1),
            start_ms: 1_793_491_200_000,
            step_ms: (span_ms / messages.max(1) as i64).max(1),
            remaining: messages,
            produced: 0,
        }
    }

    /// The word of frequency rank `rank` (0: the most common).
    pub fn word(&self, rank: usize) -> &str {
        &self.vocabulary[rank.min(self.vocabulary.len() - 1)]
    }

    pub fn conversations(&self) -> &[ConversationId] {
        &self.conversations
    }

    /// The sender of number `n` (`person-<n>`).
    pub fn sender(n: usize) -> UserId {
        UserId::parse(&format!("person-{n}")).unwrap_or_else(|_| unreachable!("a valid user id"))
    }

    fn zipf_word(&mut self) -> usize {
        let u = self.rng.unit();
        self.cumulative
            .partition_point(|&c| c < u)
            .min(self.vocabulary.len() - 1)
    }

    /// Conversation sizes are skewed too: a few busy ones, many quiet ones.
    fn conversation(&mut self) -> usize {
        let n = self.conversations.len();
        let (a, b) = (self.rng.below(n), self.rng.below(n));
        a.min(b)
    }
}

impl Iterator for Corpus {
    type Item = SearchDocument;

    fn next(&mut self) -> Option<SearchDocument> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let i = self.produced;
        self.produced += 1;
        let c = self.conversation();
        self.seqs[c] += 1;
        // Chat messages are short: 2 to 13 words mostly, now and then up to 60.
        let len = if self.rng.below(10) == 0 {
            14 + self.rng.below(47)
        } else {
            2 + self.rng.below(12)
        };
        let ranks: Vec<usize> = (0..len).map(|_| self.zipf_word()).collect();
        let body = ranks
            .iter()
            .map(|&r| self.vocabulary[r].as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let file_names = if self.rng.below(10) == 0 {
            let w = self.zipf_word();
            vec![format!("{}-{i}.pdf", self.vocabulary[w])]
        } else {
            Vec::new()
        };
        Some(SearchDocument {
            message_id: MessageId::generate(),
            conversation_id: self.conversations[c].clone(),
            seq: self.seqs[c],
            sender_id: Self::sender(self.rng.below(self.senders)),
            created_at: Timestamp::from_millis(self.start_ms + i as i64 * self.step_ms + self.rng.below(1000) as i64),
            body,
            file_names,
        })
    }
}

/// `n` distinct made-up words of two to four syllables, in a fixed order.
fn vocabulary(n: usize) -> Vec<String> {
    let s = SYLLABLES.len();
    let mut words = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    let mut k: usize = 0;
    while words.len() < n {
        let syllables = 2 + k % 3;
        let mut x = k.wrapping_mul(2_654_435_761) ^ (k >> 3);
        let mut w = String::new();
        for _ in 0..syllables {
            w.push_str(SYLLABLES[x % s]);
            x /= s;
        }
        if seen.insert(w.clone()) {
            words.push(w);
        }
        k += 1;
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_the_same_for_a_seed_and_zipf_shaped() {
        let a: Vec<String> = Corpus::new(7, 2_000, 50, 10).map(|d| d.body).collect();
        let b: Vec<String> = Corpus::new(7, 2_000, 50, 10).map(|d| d.body).collect();
        assert_eq!(a, b);
        let corpus = Corpus::new(7, 0, 1, 1);
        let count = |w: &str| a.iter().flat_map(|m| m.split(' ')).filter(|t| *t == w).count();
        assert!(count(corpus.word(0)) > 10 * count(corpus.word(100)).max(1));
    }
}
