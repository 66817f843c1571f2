//! The event taxonomy (事件分类): categories, subcategories and deadlines.
//!
//! Loaded from `geodata/taxonomy.json` (built into the binary). Event categories are written
//! `category.subcategory`; a filter may name a bare category to match all its subcategories.

use serde::Deserialize;

/// The built-in taxonomy file.
pub const BUILTIN_TAXONOMY: &str = include_str!("../../../geodata/taxonomy.json");

/// A top-level category.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Category {
    /// Code, e.g. `hazard`.
    pub code: String,
    /// Chinese name.
    pub zh: String,
    /// English name.
    pub en: String,
    /// Handling deadline in days, counted from acceptance.
    pub deadline_days: u32,
    /// Relative frequency used by the demo generator.
    pub weight: u32,
    /// Subcategories.
    pub subcategories: Vec<Subcategory>,
}

/// A subcategory.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Subcategory {
    /// Code within its category, e.g. `fire`.
    pub code: String,
    /// Chinese name.
    pub zh: String,
    /// English name.
    pub en: String,
}

/// Why a taxonomy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    /// Not the expected JSON.
    #[error("taxonomy is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A code appears twice or is malformed.
    #[error("taxonomy code {0:?} is duplicated or malformed")]
    BadCode(String),
}

/// The whole taxonomy, with every full code (`category.subcategory`) numbered densely.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    categories: Vec<Category>,
    /// Every full code in file order; index = dense category number used by the index.
    codes: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    categories: Vec<Category>,
}

impl Taxonomy {
    /// Parses a taxonomy file.
    pub fn from_json(text: &str) -> Result<Taxonomy, TaxonomyError> {
        let file: File = serde_json::from_str(text)?;
        let mut codes = Vec::new();
        for c in &file.categories {
            if !valid_code(&c.code) || codes.contains(&c.code) {
                return Err(TaxonomyError::BadCode(c.code.clone()));
            }
            codes.push(c.code.clone());
            for s in &c.subcategories {
                let full = format!("{}.{}", c.code, s.code);
                if !valid_code(&s.code) || codes.contains(&full) {
                    return Err(TaxonomyError::BadCode(full));
                }
                codes.push(full);
            }
        }
        Ok(Taxonomy {
            categories: file.categories,
            codes,
        })
    }

    /// The taxonomy built into the binary.
    ///
    /// # Panics
    /// Never in a released binary: a unit test parses the built-in file.
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn builtin() -> Taxonomy {
        Taxonomy::from_json(BUILTIN_TAXONOMY).expect("built-in taxonomy parses (unit-tested)")
    }

    /// Top-level categories.
    #[must_use]
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// Every full code; position = dense number.
    #[must_use]
    pub fn codes(&self) -> &[String] {
        &self.codes
    }

    /// Dense number of a full code, if it exists.
    #[must_use]
    pub fn number(&self, code: &str) -> Option<u16> {
        self.codes
            .iter()
            .position(|c| c == code)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// The category of a full code (`hazard.fire` → `hazard`).
    #[must_use]
    pub fn category_of(&self, code: &str) -> Option<&Category> {
        let top = code.split('.').next()?;
        self.categories.iter().find(|c| c.code == top)
    }

    /// Dense numbers of all codes a filter matches: the code itself and, for a bare category,
    /// every subcategory. `None` when the filter names nothing in the taxonomy.
    #[must_use]
    pub fn matching(&self, filter: &str) -> Option<Vec<u16>> {
        let prefix = format!("{filter}.");
        let found: Vec<u16> = self
            .codes
            .iter()
            .enumerate()
            .filter(|(_, c)| *c == filter || c.starts_with(&prefix))
            .filter_map(|(i, _)| u16::try_from(i).ok())
            .collect();
        (!found.is_empty()).then_some(found)
    }
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_with_enough_categories() {
        let t = Taxonomy::builtin();
        assert!(t.categories().len() >= 8);
        assert!(t.categories().iter().all(|c| !c.subcategories.is_empty()));
        assert!(t.number("hazard.fire").is_some());
        let hazard = t.matching("hazard").unwrap();
        assert_eq!(hazard.len(), 1 + t.categories()[0].subcategories.len());
        assert_eq!(t.matching("hazard.fire").unwrap().len(), 1);
        assert!(t.matching("haz").is_none());
        assert_eq!(t.category_of("petition.policy").unwrap().deadline_days, 30);
    }

    #[test]
    fn duplicate_codes_are_refused() {
        let text = r#"{"categories":[{"code":"a","zh":"甲","en":"A","deadline_days":1,"weight":1,"subcategories":[]},{"code":"a","zh":"甲","en":"A","deadline_days":1,"weight":1,"subcategories":[]}]}"#;
        assert!(matches!(
            Taxonomy::from_json(text),
            Err(TaxonomyError::BadCode(_))
        ));
    }
}
