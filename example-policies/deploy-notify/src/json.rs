//! The event's JSON payload, written by hand: one flat object needs a string
//! escape and nothing else, which keeps serde out of a small policy.

use std::fmt::Write;

/// What one `deploy` event says.
pub struct Deploy<'a> {
    pub ref_name: &'a str,
    pub branch: &'a str,
    pub before: &'a str,
    pub after: &'a str,
    pub environment: &'a str,
    /// Who pushed; none when the hosting layer does not say.
    pub pusher: Option<&'a str>,
    /// The commits the branch gained, capped; none when they could not be
    /// counted.
    pub commits: Option<u64>,
}

impl Deploy<'_> {
    /// The payload as one JSON object, keys in a fixed order.
    pub fn to_json(&self) -> String {
        let pusher = self.pusher.map_or_else(|| "null".to_owned(), string);
        let commits = self.commits.map_or_else(|| "null".to_owned(), |n| n.to_string());
        format!(
            "{{\"ref\": {}, \"branch\": {}, \"before\": {}, \"after\": {}, \"environment\": {}, \"pusher\": {pusher}, \
             \"commits\": {commits}}}",
            string(self.ref_name),
            string(self.branch),
            string(self.before),
            string(self.after),
            string(self.environment),
        )
    }
}

/// `text` as a JSON string, quotes included. Ref names, pusher names and
/// settings are the admin's or the pusher's text: a `"` or a control
/// character in them must not break (or add to) the document.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // The other control characters have no short escape; everything
            // else, non-ASCII included, is valid as is in UTF-8 JSON.
            c if c < ' ' => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::{Deploy, string};

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("main"), r#""main""#);
        assert_eq!(string(""), r#""""#);
        assert_eq!(string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(string("line\nnext\r\ttab"), r#""line\nnext\r\ttab""#);
        assert_eq!(string("\u{0}\u{1f}\u{8}"), r#""\u0000\u001f\u0008""#);
        assert_eq!(string("déploiement ✓"), "\"déploiement ✓\"", "non-ASCII is kept as is");
        assert_eq!(string("\u{7f}"), "\"\u{7f}\"", "DEL needs no escape in JSON");
    }

    #[test]
    fn payload_is_one_object() {
        let deploy = Deploy {
            ref_name: "refs/heads/main",
            branch: "main",
            before: "0000",
            after: "9c1e",
            environment: "prod \"eu\"",
            pusher: Some("ann"),
            commits: Some(3),
        };
        assert_eq!(
            deploy.to_json(),
            r#"{"ref": "refs/heads/main", "branch": "main", "before": "0000", "after": "9c1e", "environment": "prod \"eu\"", "pusher": "ann", "commits": 3}"#
        );
        let unknown = Deploy { pusher: None, commits: None, ..deploy };
        assert!(unknown.to_json().ends_with(r#""pusher": null, "commits": null}"#), "{}", unknown.to_json());
    }

    #[test]
    fn a_parser_reads_back_every_character() {
        let text: String = (0..0x250).filter_map(char::from_u32).chain(['\u{2028}', '✓', '😀']).collect();
        let parsed: serde_json::Value = serde_json::from_str(&string(&text)).unwrap_or_default();
        assert_eq!(parsed.as_str(), Some(text.as_str()));

        let deploy = Deploy {
            ref_name: "refs/heads/a\"b",
            branch: "a\"b",
            before: "0",
            after: "1",
            environment: "x\ny",
            pusher: None,
            commits: Some(1000),
        };
        let parsed: serde_json::Value = serde_json::from_str(&deploy.to_json()).unwrap_or_default();
        assert_eq!(parsed["branch"], "a\"b");
        assert_eq!(parsed["environment"], "x\ny");
        assert!(parsed["pusher"].is_null());
        assert_eq!(parsed["commits"], 1000);
    }
}
