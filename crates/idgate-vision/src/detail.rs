//! A photo finding's machine detail, typed: named measures in the order the check wrote
//! them (the measured value, its threshold, the corners missing...). Whoever shows it
//! (the service, a report) renders it; this crate knows no JSON.

/// One measure's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Measure {
    /// A measured ratio or level, as the check computed it.
    Real(f32),
    Count(u64),
    Flag(bool),
    Text(String),
    Texts(Vec<String>),
    /// A value the check looked for and did not find.
    Absent,
}

impl From<f32> for Measure {
    fn from(v: f32) -> Self {
        Measure::Real(v)
    }
}

impl From<u8> for Measure {
    fn from(v: u8) -> Self {
        Measure::Count(u64::from(v))
    }
}

impl From<u32> for Measure {
    fn from(v: u32) -> Self {
        Measure::Count(u64::from(v))
    }
}

impl From<usize> for Measure {
    fn from(v: usize) -> Self {
        Measure::Count(v as u64)
    }
}

impl From<bool> for Measure {
    fn from(v: bool) -> Self {
        Measure::Flag(v)
    }
}

impl From<String> for Measure {
    fn from(v: String) -> Self {
        Measure::Text(v)
    }
}

impl<T: Into<Measure>> From<Option<T>> for Measure {
    fn from(v: Option<T>) -> Self {
        v.map_or(Measure::Absent, Into::into)
    }
}

impl<S: ToString> From<Vec<S>> for Measure {
    fn from(v: Vec<S>) -> Self {
        Measure::Texts(v.iter().map(ToString::to_string).collect())
    }
}

/// Named measures, in the order written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detail(pub Vec<(&'static str, Measure)>);

impl Detail {
    pub fn new() -> Detail {
        Detail::default()
    }

    /// This detail with `name` measured as `value`.
    pub fn with(mut self, name: &'static str, value: impl Into<Measure>) -> Detail {
        self.0.push((name, value.into()));
        self
    }

    /// The measure named `name`.
    pub fn get(&self, name: &str) -> Option<&Measure> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, m)| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_keep_their_names_kinds_and_order() {
        let d = Detail::new()
            .with("focus", 3.5f32)
            .with("lines_found", 2usize)
            .with("camera_metadata", false)
            .with("expiry_date", None::<String>)
            .with("missing_corners", vec!["top_left", "top_right"]);
        let names: Vec<&str> = d.0.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "focus",
                "lines_found",
                "camera_metadata",
                "expiry_date",
                "missing_corners"
            ]
        );
        assert_eq!(d.get("focus"), Some(&Measure::Real(3.5)));
        assert_eq!(d.get("lines_found"), Some(&Measure::Count(2)));
        assert_eq!(d.get("expiry_date"), Some(&Measure::Absent));
        assert_eq!(
            d.get("missing_corners"),
            Some(&Measure::Texts(vec!["top_left".into(), "top_right".into()]))
        );
        assert_eq!(d.get("threshold"), None);
    }
}
