//! Validation of one row into a record of its register: every field of the row is checked
//! and every fault reported (field and reason), so a person fixes a row once. Reasons are
//! English (the UI translates them) and never hold a full ID number or phone.

use chrono::{Datelike, NaiveDate};
use geo::InteriorPoint;
use serde_json::Value;

use super::columns::{columns, index};
use super::read::RawRow;
use super::{Kind, RowError};
use minqing_model::check_lon_lat;
use minqing_model::geojson::{multipolygon_from_json, point_from_json};
use minqing_model::register::{
    BuildingKind, BuildingRecord, CareTag, HouseholdRecord, IdNumber, NewOrganisation, NewResident,
    OrgKind, OrganisationRecord, PlaceClass, PlaceRecord, PlaceType, Registration, ResidentRecord,
    Sex, Tags, ThingState, check_phone, mask_id_number,
};
use minqing_model::sealed::{Field, Keys};
use minqing_store::{
    ImportBuilding, ImportHousehold, ImportOrganisation, ImportPlace, ImportResident,
};

/// Longest code.
const MAX_CODE: usize = 64;
/// Longest name.
const MAX_NAME: usize = 100;
/// Longest address.
const MAX_ADDRESS: usize = 200;
/// Longest door.
const MAX_DOOR: usize = 50;

/// A position, and the outline it lies in when one was given.
type Located = ((f64, f64), Option<geo_types::MultiPolygon<f64>>);

/// The cells of a row being checked, and the faults found so far.
pub(super) struct Cells<'a> {
    kind: Kind,
    row: &'a RawRow,
    pub(super) errors: Vec<RowError>,
}

/// A value shown in a reason: at most 40 characters, quoted.
fn shown(v: &str) -> String {
    let s: String = v.chars().take(40).collect();
    if s.len() < v.len() {
        format!("{s:?}…")
    } else {
        format!("{s:?}")
    }
}

impl<'a> Cells<'a> {
    pub(super) fn new(kind: Kind, row: &'a RawRow) -> Cells<'a> {
        Cells {
            kind,
            row,
            errors: Vec::new(),
        }
    }

    fn fault(&mut self, field: &str, reason: impl Into<String>) {
        self.errors.push(RowError {
            line: self.row.line,
            field: field.into(),
            reason: reason.into(),
        });
    }

    fn raw(&self, field: &str) -> Option<&'a str> {
        self.row.get(index(self.kind, field))
    }

    /// A text field: required or not, at most `max` characters, no control characters.
    fn text(&mut self, field: &str, max: usize, required: bool) -> Option<String> {
        let Some(v) = self.raw(field) else {
            if required {
                self.fault(field, format!("the {field} is missing"));
            }
            return None;
        };
        if v.chars().count() > max {
            self.fault(
                field,
                format!("the {field} is longer than {max} characters"),
            );
            return None;
        }
        if v.chars().any(char::is_control) {
            self.fault(
                field,
                format!("the {field} holds a control character (a tab, a line break, NUL …)"),
            );
            return None;
        }
        Some(v.to_owned())
    }

    fn code(&mut self, field: &str, required: bool) -> Option<String> {
        self.text(field, MAX_CODE, required)
    }

    /// One of a closed set of codes, given as its code or Chinese label.
    fn one_of<T>(
        &mut self,
        field: &str,
        parse: impl Fn(&str) -> Option<T>,
        codes: impl Fn() -> String,
        required: bool,
    ) -> Option<T> {
        let Some(v) = self.raw(field) else {
            if required {
                self.fault(field, format!("the {field} is missing"));
            }
            return None;
        };
        let p = parse(v);
        if p.is_none() {
            self.fault(
                field,
                format!(
                    "{} is not a {field}: use one of {} (or its Chinese label)",
                    shown(v),
                    codes()
                ),
            );
        }
        p
    }

    fn int(&mut self, field: &str, min: i64, max: i64) -> Option<i64> {
        let v = self.raw(field)?;
        let n = v
            .parse::<i64>()
            .ok()
            .or_else(|| {
                v.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                    .map(|f| f as i64)
            })
            .filter(|n| (min..=max).contains(n));
        if n.is_none() {
            self.fault(
                field,
                format!(
                    "the {field} must be a whole number from {min} to {max}, not {}",
                    shown(v)
                ),
            );
        }
        n
    }

    /// The position: the GeoJSON geometry's point (or the interior point of an outline,
    /// returned too), else the `lon` and `lat` columns. `None` without a fault when neither
    /// is given.
    fn position(&mut self, outlines: bool) -> Option<Located> {
        if let Some(g) = &self.row.geometry {
            return self.geometry(g, outlines);
        }
        let (lon, lat) = (self.raw("lon"), self.raw("lat"));
        if lon.is_none() && lat.is_none() {
            return None;
        }
        let num = |v: Option<&str>| {
            v.and_then(|v| v.parse::<f64>().ok())
                .filter(|x| x.is_finite())
        };
        let (Some(x), Some(y)) = (num(lon), num(lat)) else {
            self.fault("lon", "lon and lat must both be numbers (WGS84 degrees)");
            return None;
        };
        match check_lon_lat(x, y) {
            Ok(()) => Some(((x, y), None)),
            Err(e) => {
                self.fault("lon", e);
                None
            }
        }
    }

    fn geometry(&mut self, g: &Value, outlines: bool) -> Option<Located> {
        let kind = g.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == "Point" {
            return match point_from_json(g) {
                Ok(p) => Some((p, None)),
                Err(e) => {
                    self.fault("geometry", e);
                    None
                }
            };
        }
        if !outlines {
            self.fault("geometry", "the geometry must be a Point");
            return None;
        }
        match multipolygon_from_json(g) {
            Ok(mp) => {
                let p = mp.interior_point();
                if p.is_none() {
                    self.fault("geometry", "the outline is empty");
                }
                p.map(|p| ((p.x(), p.y()), Some(mp)))
            }
            Err(e) => {
                self.fault(
                    "geometry",
                    format!("the geometry must be a Point, Polygon or MultiPolygon: {e}"),
                );
                None
            }
        }
    }

    fn done<T>(self, value: Option<T>) -> Result<T, Vec<RowError>> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => Err(self.errors),
        }
    }
}

/// A building row.
pub(super) fn building(row: &RawRow) -> Result<ImportBuilding, Vec<RowError>> {
    let mut c = Cells::new(Kind::Buildings, row);
    let code = c.code("code", true);
    let address = c.text("address", MAX_ADDRESS, true);
    let kind = c.one_of("kind", BuildingKind::parse, BuildingKind::codes, true);
    let floors = if c.raw("floors").is_some() {
        c.int("floors", 1, 200).map(|n| n as i16)
    } else {
        Some(1)
    };
    let position = c.position(true);
    if position.is_none()
        && c.errors
            .iter()
            .all(|e| e.field != "geometry" && e.field != "lon")
    {
        c.fault(
            "lon",
            "a building needs a location: lon and lat, or a GeoJSON geometry",
        );
    }
    let v = (|| {
        let ((lon, lat), outline) = position?;
        Some(ImportBuilding {
            record: BuildingRecord {
                id: 0,
                code: code?,
                address: address?,
                kind: kind?,
                floors: floors?,
                lon,
                lat,
                outline: None,
                generated: false,
            },
            outline,
        })
    })();
    c.done(v)
}

/// A place row.
pub(super) fn place(row: &RawRow) -> Result<ImportPlace, Vec<RowError>> {
    let mut c = Cells::new(Kind::Places, row);
    let code = c.code("code", true);
    let name = c.text("name", MAX_NAME, true);
    let kind = c.one_of("type", PlaceType::parse, PlaceType::codes, true);
    let class = kind.map(PlaceType::class);
    let risk_level = if c.raw("risk_level").is_some() {
        if class.is_some_and(|k| k != PlaceClass::Risk) {
            c.fault("risk_level", "only risk sites have a risk level");
        }
        c.int("risk_level", 1, 4).map(|n| n as i16)
    } else {
        None
    };
    let state = if c.raw("state").is_some() {
        if class.is_some_and(|k| k != PlaceClass::Thing) {
            c.fault("state", "only public things (部件) have a state");
        }
        c.one_of("state", ThingState::parse, ThingState::codes, false)
    } else if class == Some(PlaceClass::Thing) {
        Some(ThingState::Normal)
    } else {
        None
    };
    let building_code = c.code("building_code", false);
    let position = c.position(false);
    let located = position.is_some();
    if !located
        && building_code.is_none()
        && c.errors
            .iter()
            .all(|e| e.field != "geometry" && e.field != "lon")
    {
        c.fault(
            "lon",
            "a place needs a location: lon and lat, a Point geometry, or a building_code",
        );
    }
    let (lon, lat) = position.map_or((0.0, 0.0), |p| p.0);
    let v = (|| {
        Some(ImportPlace {
            record: PlaceRecord {
                id: 0,
                code: code?,
                name: name?,
                kind: kind?,
                risk_level,
                state,
                building_id: None,
                lon,
                lat,
                generated: false,
            },
            building_code,
            located,
        })
    })();
    c.done(v)
}

/// An organisation row.
pub(super) fn organisation(row: &RawRow) -> Result<ImportOrganisation, Vec<RowError>> {
    let mut c = Cells::new(Kind::Organisations, row);
    let code = c.code("code", true);
    let name = c.text("name", MAX_NAME, true);
    let kind = c.one_of("kind", OrgKind::parse, OrgKind::codes, true);
    let building_code = c.code("building_code", false);
    let contact_name = c.text("contact_name", MAX_NAME, false);
    let contact_phone = phone(&mut c, "contact_phone");
    let position = c.position(false);
    let located = position.is_some();
    if !located
        && building_code.is_none()
        && c.errors
            .iter()
            .all(|e| e.field != "geometry" && e.field != "lon")
    {
        c.fault(
            "lon",
            "an organisation needs a location: lon and lat, a Point geometry, or a \
             building_code",
        );
    }
    let (lon, lat) = position.map_or((0.0, 0.0), |p| p.0);
    let v = (|| {
        Some(ImportOrganisation {
            record: NewOrganisation {
                record: OrganisationRecord {
                    id: 0,
                    code: code?,
                    name: name?,
                    kind: kind?,
                    building_id: None,
                    contact_name,
                    lon,
                    lat,
                    generated: false,
                },
                contact_phone: contact_phone.ok()?,
            },
            building_code,
            located,
        })
    })();
    c.done(v)
}

/// A household row.
pub(super) fn household(row: &RawRow) -> Result<ImportHousehold, Vec<RowError>> {
    let mut c = Cells::new(Kind::Households, row);
    let code = c.code("code", true);
    let building_code = c.code("building_code", true);
    let door = c.text("door", MAX_DOOR, false);
    let v = (|| {
        Some(ImportHousehold {
            record: HouseholdRecord {
                id: 0,
                code: code?,
                building_id: 0,
                door: door.unwrap_or_default(),
                generated: false,
            },
            building_code: building_code?,
        })
    })();
    c.done(v)
}

/// A phone cell: `Ok(None)` when empty, `Err` when invalid (a fault recorded; the value is
/// never repeated in it).
fn phone(c: &mut Cells<'_>, field: &str) -> Result<Option<String>, ()> {
    let Some(v) = c.raw(field) else {
        return Ok(None);
    };
    check_phone(v).map(Some).map_err(|e| c.fault(field, e))
}

/// A date as offices write it: 1980-01-31, 1980/1/31, 19800131, 1980年1月31日, or an Excel
/// date cell.
fn date(v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"] {
        if let Ok(d) = NaiveDate::parse_from_str(v, f) {
            return Some(d);
        }
    }
    // An ISO date-time (a spreadsheet's date cell may carry a time of midnight).
    v.get(..10)
        .filter(|_| {
            v.len() > 10
                && v.as_bytes()
                    .get(10)
                    .is_some_and(|b| *b == b'T' || *b == b' ')
        })
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

fn sex(v: &str) -> Option<Sex> {
    match v.trim().to_lowercase().as_str() {
        "male" | "m" | "男" => Some(Sex::Male),
        "female" | "f" | "女" => Some(Sex::Female),
        _ => None,
    }
}

/// Care tags separated by commas, semicolons, 、 or spaces.
fn tags(c: &mut Cells<'_>) -> Option<Tags> {
    let Some(v) = c.raw("tags") else {
        return Some(Tags::default());
    };
    let mut t = Tags::default();
    let mut ok = true;
    for part in v
        .split([',', '，', ';', '；', '、', '|', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if let Some(tag) = CareTag::parse(part) {
            t = t.with(tag);
        } else {
            ok = false;
            c.fault(
                "tags",
                format!(
                    "{} is not a care tag: use {} (or their Chinese labels)",
                    shown(part),
                    CareTag::codes()
                ),
            );
        }
    }
    ok.then_some(t)
}

/// A resident row; `today` bounds birth dates, `keys` hash the ID number for the lookups.
pub(super) fn resident(
    row: &RawRow,
    today: NaiveDate,
    keys: &Keys,
) -> Result<ImportResident, Vec<RowError>> {
    let mut c = Cells::new(Kind::Residents, row);
    let household_code = c.code("household_code", true);
    let name = c.text("name", MAX_NAME, true);
    let id_number = match c.raw("id_number") {
        None => {
            c.fault("id_number", "the id_number is missing");
            None
        }
        Some(_) if row.is_numeric(index(Kind::Residents, "id_number")) => {
            c.fault(
                "id_number",
                "the ID number is stored as a number in the spreadsheet, which loses its \
                 last digits: format the column as text and type the numbers again",
            );
            None
        }
        Some(v) => match IdNumber::parse(v) {
            Ok(n) => Some(n),
            Err(e) => {
                c.fault("id_number", e);
                None
            }
        },
    };
    let phone = phone(&mut c, "phone");
    let id_birth = id_number.as_ref().and_then(IdNumber::birth_date);
    if id_birth.is_some_and(|b| b > today) {
        c.fault("id_number", "the ID number's birth date is in the future");
    }
    let birth = match c.raw("birth_date") {
        None => id_birth,
        Some(v) => match date(v) {
            None => {
                c.fault(
                    "birth_date",
                    format!("{} is not a date (write it as 1980-01-31)", shown(v)),
                );
                None
            }
            Some(d) if id_birth.is_some_and(|b| b != d) => {
                c.fault(
                    "birth_date",
                    "the birth date differs from the one in the ID number",
                );
                None
            }
            Some(d) => Some(d),
        },
    };
    if birth.is_some_and(|b| b.year() < 1880) {
        c.fault("birth_date", "the birth date is before 1880");
    }
    let id_sex = id_number.as_ref().map(IdNumber::sex);
    let sex = match c.raw("sex") {
        None => id_sex,
        Some(v) => match sex(v) {
            None => {
                c.fault(
                    "sex",
                    format!("{} is not a sex: use male or female (男 or 女)", shown(v)),
                );
                None
            }
            Some(s) if id_sex.is_some_and(|x| x != s) => {
                c.fault("sex", "the sex differs from the one in the ID number");
                None
            }
            Some(s) => Some(s),
        },
    };
    let registration = c.one_of(
        "registration",
        Registration::parse,
        Registration::codes,
        true,
    );
    let tags = tags(&mut c);
    let v = (|| {
        let id_number = id_number?;
        let id_lookup = keys.lookup(Field::IdNumber, id_number.expose());
        Some(ImportResident {
            record: NewResident {
                record: ResidentRecord {
                    id: 0,
                    household_id: 0,
                    name: name?,
                    birth_date: birth?,
                    sex: sex?,
                    registration: registration?,
                    tags: tags?,
                    generated: false,
                },
                id_number,
                phone: phone.ok()?,
            },
            household_code: household_code?,
            id_lookup,
        })
    })();
    c.done(v)
}

/// The reason given for the second of two rows with the same ID number.
pub(super) fn duplicate_id(id: &IdNumber, first: u64) -> String {
    format!(
        "the ID number {} is also on line {first}",
        mask_id_number(id.expose())
    )
}

/// Every column name of a register, for messages.
#[must_use]
pub fn column_names(kind: Kind) -> Vec<&'static str> {
    columns(kind).iter().map(|c| c.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: Kind, cells: &[(&str, &str)]) -> RawRow {
        let mut r = RawRow {
            line: 7,
            cells: vec![None; columns(kind).len()],
            ..RawRow::default()
        };
        for (k, v) in cells {
            r.cells[index(kind, k)] = Some((*v).to_owned());
        }
        r
    }

    #[test]
    fn a_resident_row_is_checked_whole_and_never_echoes_personal_data() {
        let keys = Keys::new(&[1; 32]);
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let id = "11010519491231002X";
        let ok = row(
            Kind::Residents,
            &[
                ("household_code", "H1"),
                ("name", "张三"),
                ("id_number", id),
                ("phone", "138 0013 8000"),
                ("registration", "户籍"),
                ("tags", "独居老人、very_old"),
            ],
        );
        let r = resident(&ok, today, &keys).unwrap();
        assert_eq!(r.record.record.sex, Sex::Female);
        assert_eq!(
            r.record.record.birth_date,
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(r.record.phone.as_deref(), Some("13800138000"));
        assert!(r.record.record.tags.has(CareTag::VeryOld));

        let bad = row(
            Kind::Residents,
            &[
                ("household_code", "H1"),
                ("name", "张三"),
                ("id_number", "110105194912310021"),
                ("phone", "1380013800"),
                ("registration", "local"),
                ("tags", "elderly_alone,rich"),
                ("birth_date", "1949-13-01"),
            ],
        );
        let errors = resident(&bad, today, &keys).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["id_number", "phone", "birth_date", "registration", "tags"]
        );
        assert!(errors.iter().all(|e| e.line == 7));
        let text = format!("{errors:?}");
        assert!(!text.contains("110105194912310021") && !text.contains("1380013800"));

        let wrong_birth = row(
            Kind::Residents,
            &[
                ("household_code", "H1"),
                ("name", "张三"),
                ("id_number", id),
                ("registration", "registered"),
                ("birth_date", "1950/1/1"),
                ("sex", "男"),
            ],
        );
        let errors = resident(&wrong_birth, today, &keys).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn buildings_need_a_location_and_places_may_take_their_buildings() {
        let b = row(
            Kind::Buildings,
            &[("code", "B1"), ("address", "二马路12号"), ("kind", "住宅")],
        );
        let e = building(&b).unwrap_err();
        assert_eq!(e[0].field, "lon");
        let mut b = b;
        b.cells[index(Kind::Buildings, "lon")] = Some("115.37".into());
        b.cells[index(Kind::Buildings, "lat")] = Some("22.79".into());
        b.cells[index(Kind::Buildings, "floors")] = Some("6.0".into());
        let ok = building(&b).unwrap();
        assert_eq!(ok.record.floors, 6);
        let p = row(
            Kind::Places,
            &[
                ("code", "P1"),
                ("name", "消防栓1"),
                ("type", "hydrant"),
                ("building_code", "B1"),
            ],
        );
        let p = place(&p).unwrap();
        assert!(!p.located);
        assert_eq!(p.record.state, Some(ThingState::Normal));
        let r = row(
            Kind::Places,
            &[
                ("code", "P2"),
                ("name", "饭堂"),
                ("type", "elder_canteen"),
                ("risk_level", "2"),
            ],
        );
        let e = place(&r).unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
    }

    #[test]
    fn dates_as_offices_write_them() {
        let d = NaiveDate::from_ymd_opt(1980, 1, 31);
        for v in [
            "1980-01-31",
            "1980/1/31",
            "19800131",
            "1980年1月31日",
            "1980-01-31T00:00:00",
        ] {
            assert_eq!(date(v), d, "{v}");
        }
        assert_eq!(date("31/01/1980"), None);
    }
}
