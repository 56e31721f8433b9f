//! A macro for enums stored as TEXT columns: it derives the SQL conversions, serde names,
//! `Display` and `FromStr` from one table of variant ↔ text pairs, so the three never drift
//! apart.

/// Declares an enum whose values are stored as the given texts in `table.column`.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident in $table:literal . $column:literal {
            $( $(#[$variant_meta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Returns the text stored in the database and shown to users.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $( $text => Ok($name::$variant), )+
                    _ => {
                        let expected: Vec<&str> = $name::ALL.iter().map(|value| value.as_str()).collect();
                        Err(format!("invalid value `{text}`: expected one of {}", expected.join(", ")))
                    }
                }
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                text.parse().map_err(|_| {
                    rusqlite::types::FromSqlError::Other(Box::new($crate::StoreError::InvalidRecord {
                        table: $table,
                        column: $column,
                        value: text.to_string(),
                    }))
                })
            }
        }
    };
}

pub(crate) use text_enum;
