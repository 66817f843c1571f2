//! Identities: surnames and given names, birth dates, ID numbers (GB 11643), region codes of
//! origin, mobile numbers and unified social credit codes (GB 32100).

use chrono::{Datelike, NaiveDate};
use minqing_model::register::{IdNumber, Sex, id_check_char};
use rand::Rng;

use super::{Gen, MAX_AGE};

/// Surnames with weights: eastern Guangdong (Shanwei, Chaoshan) has many 陈, 林, 黄.
pub(super) const SURNAMES: [&str; 42] = [
    "陈", "林", "黄", "李", "张", "吴", "刘", "蔡", "郑", "彭", "庄", "王", "许", "叶", "钟", "卓",
    "余", "杨", "曾", "罗", "邱", "温", "洪", "颜", "谢", "何", "朱", "徐", "周", "苏", "卢", "戴",
    "方", "马", "梁", "赖", "詹", "江", "魏", "范", "欧阳", "司徒",
];

/// Weights of [`SURNAMES`].
pub(super) const SURNAME_WEIGHTS: [u32; 42] = [
    180, 90, 70, 55, 50, 45, 40, 40, 35, 32, 28, 28, 25, 25, 22, 20, 20, 20, 18, 18, 15, 14, 14,
    12, 12, 12, 10, 10, 10, 10, 10, 8, 8, 8, 8, 8, 7, 7, 6, 6, 2, 1,
];

const MALE: [char; 48] = [
    '伟', '强', '磊', '军', '勇', '杰', '涛', '明', '超', '刚', '华', '海', '建', '文', '志', '国',
    '俊', '宏', '鹏', '辉', '斌', '鑫', '浩', '宇', '锋', '荣', '东', '振', '坤', '添', '龙', '亮',
    '平', '兴', '永', '雄', '锦', '汉', '成', '家', '泽', '彬', '耀', '光', '德', '波', '森', '炜',
];

const FEMALE: [char; 48] = [
    '芳', '敏', '静', '丽', '艳', '娟', '秀', '霞', '桂', '春', '雪', '晓', '佳', '婷', '燕', '丹',
    '玲', '琳', '慧', '美', '莉', '萍', '红', '娜', '薇', '欣', '颖', '怡', '珠', '凤', '英', '梅',
    '月', '琴', '兰', '瑶', '诗', '思', '雅', '妮', '洁', '蓉', '璇', '楠', '倩', '冰', '娇', '嘉',
];

/// The real district codes of Shanwei.
const SHANWEI: [&str; 4] = ["441502", "441521", "441523", "441581"];

/// Other places in Guangdong that people come from (Chaoshan, Huizhou, Meizhou, the Pearl
/// River delta, western Guangdong).
const GUANGDONG: [&str; 18] = [
    "445281", "445224", "441323", "441621", "441624", "440513", "440514", "441402", "440881",
    "445381", "445102", "445202", "441302", "440303", "440106", "441881", "440982", "441424",
];

/// Other provinces (Hunan, Jiangxi, Guangxi, Sichuan, Guizhou, Henan, Hubei, Fujian,
/// Chongqing).
const PROVINCES: [&str; 16] = [
    "431021", "431121", "430582", "430524", "360731", "360735", "450881", "450921", "511623",
    "520221", "522425", "411522", "412827", "421127", "350583", "500234",
];

const MOBILE_PREFIXES: [u64; 30] = [
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 153, 155, 156, 157, 158,
    159, 166, 177, 180, 181, 182, 183, 186, 187, 188, 199,
];

/// Characters of unified social credit codes (GB 32100: no I, O, S, V, Z).
const CREDIT_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Six ASCII digits, or `None`.
pub(super) fn region_of(code: &str) -> Option<[u8; 6]> {
    let b = code.as_bytes();
    if b.len() < 6 || !b[..6].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut r = [0u8; 6];
    r.copy_from_slice(&b[..6]);
    Some(r)
}

fn put_digits(out: &mut [u8], mut v: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

pub(super) fn days_of(y: i32, m: u32, d: u32) -> i32 {
    NaiveDate::from_ymd_opt(y, m, d)
        .or_else(|| NaiveDate::from_ymd_opt(y, m, d.saturating_sub(1)))
        .map_or(0, |x| x.num_days_from_ce())
}

/// The check character of the 8 characters of an organisation code (GB 11714).
pub(super) fn org_check(c: &[u8]) -> u8 {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = c
        .iter()
        .zip(WEIGHTS)
        .map(|(&ch, w)| {
            w * if ch.is_ascii_digit() {
                u32::from(ch - b'0')
            } else {
                u32::from(ch.saturating_sub(b'A')) + 10
            }
        })
        .sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    }
}

/// The check character of the first 17 characters of a unified social credit code
/// (GB 32100).
pub(super) fn credit_check(c: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: u32 = c
        .iter()
        .zip(WEIGHTS)
        .map(|(&ch, w)| w * CREDIT_CHARS.iter().position(|&x| x == ch).unwrap_or(0) as u32)
        .sum();
    CREDIT_CHARS[((31 - sum % 31) % 31) as usize]
}

impl Gen<'_> {
    pub(super) fn surname(&mut self) -> usize {
        let total = self.surname_cum.last().copied().unwrap_or(1);
        let r = self.rng.random_range(0..total);
        self.surname_cum
            .partition_point(|&c| c <= r)
            .min(SURNAMES.len() - 1)
    }

    pub(super) fn name(&mut self, surname: usize, sex: Sex) -> String {
        let pool = match sex {
            Sex::Male => &MALE,
            Sex::Female => &FEMALE,
        };
        let mut s = String::with_capacity(12);
        s.push_str(SURNAMES[surname]);
        s.push(self.pick(pool));
        if self.chance(0.78) {
            s.push(self.pick(pool));
        }
        s
    }

    pub(super) fn person(&mut self) -> String {
        let surname = self.surname();
        let sex = if self.chance(0.6) {
            Sex::Male
        } else {
            Sex::Female
        };
        self.name(surname, sex)
    }

    pub(super) fn mobile(&mut self) -> String {
        loop {
            let prefix = self.pick(&MOBILE_PREFIXES);
            let n = prefix * 100_000_000 + self.rng.random_range(0..100_000_000u64);
            if self.phones.insert(n) {
                return n.to_string();
            }
        }
    }

    pub(super) fn birth(&mut self, age: u32) -> NaiveDate {
        let age = age.min(MAX_AGE) as usize;
        let days = self
            .rng
            .random_range(self.latest[age + 1] + 1..=self.latest[age]);
        NaiveDate::from_num_days_from_ce_opt(days).unwrap_or_default()
    }

    /// A unique valid ID number, and the birth date it holds (another of the same age if
    /// every sequence of the first was taken).
    pub(super) fn id_number(
        &mut self,
        region: [u8; 6],
        mut birth: NaiveDate,
        age: u32,
        sex: Sex,
    ) -> (IdNumber, NaiveDate) {
        let mut b = [b'0'; 18];
        b[..6].copy_from_slice(&region);
        let mut attempts = 0u32;
        loop {
            if attempts > 0 && attempts.is_multiple_of(200) {
                birth = self.birth(age);
            }
            attempts += 1;
            put_digits(&mut b[6..10], birth.year().max(0) as u32);
            put_digits(&mut b[10..12], birth.month());
            put_digits(&mut b[12..14], birth.day());
            let seq = match sex {
                Sex::Male => 2 * self.rng.random_range(0..500) + 1,
                Sex::Female => 2 * self.rng.random_range(1..500),
            };
            put_digits(&mut b[14..17], seq);
            let key = b[..17]
                .iter()
                .fold(0u64, |k, d| k * 10 + u64::from(d - b'0'));
            if !self.ids.insert(key) {
                continue;
            }
            b[17] = id_check_char(&b[..17]);
            if let Ok(s) = std::str::from_utf8(&b)
                && let Ok(id) = IdNumber::parse(s)
            {
                return (id, birth);
            }
        }
    }

    /// The region code of someone registered elsewhere than `own`.
    pub(super) fn origin(&mut self, own: [u8; 6]) -> [u8; 6] {
        let u = self.rng.random::<f64>();
        if u < 0.35 {
            return self.origin_shanwei(own);
        }
        let code = if u < 0.75 {
            self.pick(&GUANGDONG)
        } else {
            self.pick(&PROVINCES)
        };
        region_of(code).unwrap_or(own)
    }

    /// A Shanwei district other than `own`.
    pub(super) fn origin_shanwei(&mut self, own: [u8; 6]) -> [u8; 6] {
        let others = || SHANWEI.iter().filter(|c| c.as_bytes() != own);
        let j = self.rng.random_range(0..others().count().max(1));
        others().nth(j).and_then(|c| region_of(c)).unwrap_or(own)
    }

    /// A unified social credit code (GB 32100) starting with `head` (91 enterprise,
    /// 92 individual business, 51 social organisation) and `region`; unique.
    pub(super) fn credit_code(&mut self, head: [u8; 2], region: [u8; 6]) -> String {
        loop {
            let mut c = [b'0'; 18];
            c[..2].copy_from_slice(&head);
            c[2..8].copy_from_slice(&region);
            // the organisation code (GB 11714): 8 characters and a check character; newer
            // ones start with MA
            let modern = self.chance(0.7);
            for (i, x) in c[8..16].iter_mut().enumerate() {
                *x = match (modern, i) {
                    (true, 0) => b'M',
                    (true, 1) => b'A',
                    (true, _) => self.pick(CREDIT_CHARS),
                    (false, _) => b'0' + self.rng.random_range(0..10u8),
                };
            }
            c[16] = org_check(&c[8..16]);
            c[17] = credit_check(&c[..17]);
            let code: String = c.iter().map(|&x| char::from(x)).collect();
            if self.credit.insert(code.clone()) {
                return code;
            }
        }
    }
}
