//! A policy's answer, and how much of what it wrote hookrt keeps.

/// One reason to reject, as a policy gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Veto {
    pub summary: String,
    pub detail: String,
    pub ref_name: String,
    /// The commit id as the policy wrote it (it is shown, not trusted).
    pub commit: Option<String>,
}

/// A policy's answer to a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// One or more vetoes. An empty list still rejects: the policy said no,
    /// it only did not say why.
    Reject(Vec<Veto>),
}

/// The most of a veto's summary, ref name or commit kept, in bytes.
const SUMMARY_MAX: usize = 1 << 10;
/// The most of a veto's detail kept, in bytes.
const DETAIL_MAX: usize = 8 << 10;
/// The most vetoes of one policy kept; the rest are counted.
pub const MAX_VETOES: usize = 100;

impl Veto {
    /// The veto with every field cut to what a terminal (and the audit log)
    /// can sensibly show: a policy decides how much it writes, hookrt how
    /// much it keeps.
    pub fn bounded(mut self) -> Self {
        cut(&mut self.summary, SUMMARY_MAX);
        cut(&mut self.detail, DETAIL_MAX);
        cut(&mut self.ref_name, SUMMARY_MAX);
        if let Some(commit) = &mut self.commit {
            cut(commit, SUMMARY_MAX);
        }
        self
    }
}

impl Verdict {
    /// Keeps the first [`MAX_VETOES`] vetoes and returns how many were
    /// dropped. The verdict stays a rejection however many there were.
    pub fn cap_vetoes(&mut self) -> usize {
        match self {
            Verdict::Reject(vetoes) if vetoes.len() > MAX_VETOES => {
                let dropped = vetoes.len() - MAX_VETOES;
                vetoes.truncate(MAX_VETOES);
                dropped
            }
            _ => 0,
        }
    }
}

/// Cuts `text` to at most `max` bytes (at a character boundary) and says
/// so at the end, with the original size. Returns whether it cut.
pub fn cut(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    *text = cut_copy(text, max);
    true
}

/// `text`, or as much of it as [`cut`] keeps, copied.
pub fn cut_copy(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let kept = &text[..text.floor_char_boundary(max)];
    format!("{kept} … [cut by hookrt: {} bytes in all]", text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_characters_and_names_the_size() {
        let mut text = "ééé".to_owned(); // 6 bytes
        assert!(cut(&mut text, 3));
        assert_eq!(text, "é … [cut by hookrt: 6 bytes in all]");
        let mut short = "fine".to_owned();
        assert!(!cut(&mut short, 4));
        assert_eq!(short, "fine");
    }

    #[test]
    fn thousands_of_vetoes_are_capped_and_counted() {
        let veto =
            Veto { summary: "s".into(), detail: String::new(), ref_name: "refs/heads/main".into(), commit: None };
        let mut verdict = Verdict::Reject(vec![veto; MAX_VETOES + 42]);
        assert_eq!(verdict.cap_vetoes(), 42);
        assert!(matches!(&verdict, Verdict::Reject(v) if v.len() == MAX_VETOES));
    }
}
