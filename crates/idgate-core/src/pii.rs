//! Personal data wrapped so that `Debug` and `Display` never print it.

use std::fmt;

/// A value that must not reach logs or panic messages. Read it with [`Redacted::expose`].
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    pub fn new(value: T) -> Redacted<T> {
        Redacted(value)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let name = Redacted::new("ERIKSSON ANNA".to_string());
        assert_eq!(format!("{name:?} {name}"), "<redacted> <redacted>");
        assert_eq!(format!("{:?}", Some(&name)), "Some(<redacted>)");
        assert_eq!(name.expose(), "ERIKSSON ANNA");
    }
}
