//! The columns of each register's import file: an English `snake_case` name (the record's
//! field) and the Chinese headers offices use. A header is matched whatever its case, its
//! spaces, a leading `*` (a required-field mark of office templates) or a trailing unit in
//! brackets (`楼层(层)`).

use super::Kind;

/// One column of an import file.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The English name (the record's field).
    pub name: &'static str,
    /// The Chinese headers accepted for it.
    pub aliases: &'static [&'static str],
    /// Whether every file must have it.
    pub required: bool,
}

const fn col(name: &'static str, aliases: &'static [&'static str], required: bool) -> Column {
    Column {
        name,
        aliases,
        required,
    }
}

const LON: Column = col("lon", &["经度", "longitude", "lng"], false);
const LAT: Column = col("lat", &["纬度", "latitude"], false);

const BUILDINGS: &[Column] = &[
    col(
        "code",
        &["编码", "建筑编码", "楼栋编码", "建筑物编码"],
        true,
    ),
    col("address", &["地址", "门牌", "门牌地址", "详细地址"], true),
    col("kind", &["类型", "建筑类型", "用途", "建筑用途"], true),
    col("floors", &["楼层", "层数", "楼层数"], false),
    LON,
    LAT,
];

const PLACES: &[Column] = &[
    col("code", &["编码", "场所编码", "部件编码"], true),
    col("name", &["名称", "场所名称", "部件名称"], true),
    col("type", &["类型", "场所类型", "部件类型"], true),
    col("risk_level", &["风险等级"], false),
    col("state", &["状态", "部件状态"], false),
    col(
        "building_code",
        &["建筑编码", "所在建筑", "楼栋编码"],
        false,
    ),
    LON,
    LAT,
];

const ORGANISATIONS: &[Column] = &[
    col(
        "code",
        &["编码", "统一社会信用代码", "信用代码", "组织编码"],
        true,
    ),
    col("name", &["名称", "单位名称", "组织名称"], true),
    col("kind", &["类型", "组织类型", "单位类型"], true),
    col(
        "building_code",
        &["建筑编码", "所在建筑", "楼栋编码"],
        false,
    ),
    col("contact_name", &["联系人"], false),
    col("contact_phone", &["联系电话", "联系人电话", "电话"], false),
    LON,
    LAT,
];

const HOUSEHOLDS: &[Column] = &[
    col("code", &["编码", "户编码", "户号"], true),
    col("building_code", &["建筑编码", "所在建筑", "楼栋编码"], true),
    col("door", &["门牌", "房号", "门牌号", "室号"], false),
];

const RESIDENTS: &[Column] = &[
    col("household_code", &["户编码", "户号", "所在户"], true),
    col("name", &["姓名"], true),
    col(
        "id_number",
        &["身份证号", "身份证号码", "公民身份号码", "证件号码"],
        true,
    ),
    col("phone", &["联系电话", "手机号", "手机号码", "电话"], false),
    col("birth_date", &["出生日期"], false),
    col("sex", &["性别"], false),
    col("registration", &["户籍类型", "人口类型"], true),
    col("tags", &["标签", "关怀标签", "人员标签"], false),
];

/// The columns of a register's file.
#[must_use]
pub fn columns(kind: Kind) -> &'static [Column] {
    match kind {
        Kind::Buildings => BUILDINGS,
        Kind::Places => PLACES,
        Kind::Organisations => ORGANISATIONS,
        Kind::Households => HOUSEHOLDS,
        Kind::Residents => RESIDENTS,
    }
}

/// A header as compared: trimmed, lowercase, without spaces, a leading `*` or a trailing
/// bracketed unit.
fn normal(header: &str) -> String {
    let mut h: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .trim_start_matches(['*', '＊'])
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    for open in ['(', '（'] {
        if let Some(i) = h.find(open)
            && i > 0
        {
            h.truncate(i);
        }
    }
    h
}

/// The column (its index in [`columns`]) a header names, if any.
#[must_use]
pub fn column_of(kind: Kind, header: &str) -> Option<usize> {
    let h = normal(header);
    columns(kind)
        .iter()
        .position(|c| c.name == h || c.aliases.iter().any(|a| normal(a) == h))
}

/// The index of the column named `name` in [`columns`] (a programming error if absent,
/// answered as no column).
#[must_use]
pub fn index(kind: Kind, name: &str) -> usize {
    columns(kind)
        .iter()
        .position(|c| c.name == name)
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_in_english_and_chinese() {
        assert_eq!(column_of(Kind::Residents, "姓名"), Some(1));
        assert_eq!(column_of(Kind::Residents, " *身份证号 "), Some(2));
        assert_eq!(column_of(Kind::Residents, "ID_Number"), Some(2));
        assert_eq!(column_of(Kind::Buildings, "楼层(层)"), Some(3));
        assert_eq!(column_of(Kind::Buildings, "门牌"), Some(1));
        assert_eq!(column_of(Kind::Households, "门牌"), Some(2));
        assert_eq!(column_of(Kind::Residents, "备注"), None);
        for kind in Kind::ALL {
            for (i, c) in columns(*kind).iter().enumerate() {
                assert_eq!(index(*kind, c.name), i);
                for a in c.aliases {
                    assert_eq!(column_of(*kind, a), Some(i), "{a}");
                }
            }
        }
    }
}
