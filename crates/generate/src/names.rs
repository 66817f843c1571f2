//! Generated (fake) names and phrases.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Common surnames, with 陈/林/黄 (frequent in eastern Guangdong) first.
pub(crate) const SURNAMES: [&str; 32] = [
    "陈", "林", "黄", "李", "张", "王", "刘", "吴", "郑", "蔡", "彭", "杨", "钟", "叶", "卓", "庄",
    "许", "邱", "余", "曾", "罗", "何", "朱", "徐", "周", "洪", "温", "谢", "方", "苏", "卢", "戴",
];

const GIVEN: [&str; 40] = [
    "伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀", "霞", "平", "刚", "桂", "华", "海", "建", "文", "春", "雪", "晓", "志", "国", "佳", "俊",
    "婷", "燕", "宏", "鹏", "丹", "辉", "玲", "琳",
];

/// A generated person's name: surname plus one or two given-name characters.
pub(crate) fn person(rng: &mut ChaCha8Rng) -> String {
    let mut s = String::from(SURNAMES[rng.random_range(0..SURNAMES.len())]);
    s.push_str(GIVEN[rng.random_range(0..GIVEN.len())]);
    if rng.random_bool(0.6) {
        s.push_str(GIVEN[rng.random_range(0..GIVEN.len())]);
    }
    s
}

/// An obviously fake reporter contact: `居民 张** 1380000xxxx`.
pub(crate) fn reporter(rng: &mut ChaCha8Rng) -> String {
    format!(
        "居民 {}** 1380000{:04}",
        SURNAMES[rng.random_range(0..SURNAMES.len())],
        rng.random_range(0..10_000u32)
    )
}

const WHERE: [&str; 8] = [
    "附近",
    "路口",
    "小区门口",
    "楼下",
    "菜市场旁",
    "学校周边",
    "村道旁",
    "公园内",
];
const SEEN: [&str; 6] = [
    "群众反映",
    "网格员巡查发现",
    "居民来电反映",
    "12345转办",
    "网格员走访发现",
    "商户反映",
];
const ASK: [&str; 6] = [
    "请尽快核实处理",
    "请相关部门跟进",
    "影响居民出行",
    "存在安全隐患",
    "群众意见较大",
    "请派人到现场查看",
];

/// A short generated description: where, who noticed, what, and a request.
pub(crate) fn description(rng: &mut ChaCha8Rng, place: &str, what: &str) -> String {
    format!(
        "{}{}{}存在{}问题，{}。",
        SEEN[rng.random_range(0..SEEN.len())],
        place,
        WHERE[rng.random_range(0..WHERE.len())],
        what,
        ASK[rng.random_range(0..ASK.len())]
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn fake_contacts_look_fake() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let r = reporter(&mut rng);
        assert!(r.starts_with("居民 ") && r.contains("** 1380000"));
        assert_eq!(r.chars().filter(char::is_ascii_digit).count(), 11);
        let p = person(&mut rng);
        assert!((2..=3).contains(&p.chars().count()));
        assert!(description(&mut rng, "立新社区", "路灯故障").ends_with('。'));
    }
}
