//! `string_enum!`: string-backed enums (roles, statuses, kinds) with `as_str`, `parse`
//! (whose error names the field) and `Display`, declared once for all of them.

/// Declares a string-backed enum with `as_str` / `parse` (the field name goes in errors).
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, $crate::error::Error> {
                match raw {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::error::Error::invalid(
                        $field,
                        concat!("must be one of:", $(" ", $text),+),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
