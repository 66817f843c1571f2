//! Organisations: shops, enterprises, party branches, property companies and social
//! organisations, with their contacts.

use minqing_model::register::{NewOrganisation, OrgKind, OrganisationRecord};
use rand::Rng;

use super::communities::{Comm, stem};
use super::identity::SURNAMES;
use super::{Gen, Spot};

const SHOP_GOODS: [&str; 20] = [
    "粿条店",
    "牛肉丸店",
    "五金店",
    "杂货店",
    "茶叶店",
    "海鲜档",
    "士多店",
    "药店",
    "理发店",
    "小食店",
    "汽修店",
    "手机店",
    "服装店",
    "早餐店",
    "便利店",
    "水果店",
    "建材店",
    "电器店",
    "文具店",
    "肠粉店",
];

pub(super) const INDUSTRIES: [&str; 14] = [
    "电子",
    "服装",
    "食品",
    "水产品加工",
    "塑料制品",
    "五金制品",
    "珠宝首饰",
    "家具",
    "包装材料",
    "建材",
    "印刷",
    "纺织",
    "机械",
    "农产品",
];

const BRAND: [char; 30] = [
    '鸿', '嘉', '信', '恒', '华', '城', '海', '丰', '锦', '荣', '安', '泰', '盛', '达', '宏', '誉',
    '汇', '新', '联', '永', '富', '金', '佳', '德', '顺', '利', '源', '昌', '兴', '隆',
];

const SOCIAL: [&str; 8] = [
    "老年人协会",
    "志愿者协会",
    "文体协会",
    "慈善会",
    "龙舟协会",
    "妇女互助会",
    "青年志愿服务队",
    "乡贤理事会",
];

impl Gen<'_> {
    pub(super) fn brand(&mut self) -> String {
        let mut s = String::with_capacity(6);
        s.push(self.pick(&BRAND));
        s.push(self.pick(&BRAND));
        s
    }

    pub(super) fn org(&mut self, kind: OrgKind, name: String, code: String, at: Spot) {
        let contact = self.person();
        let phone = self.mobile();
        let id = self.out.organisations.len() as i64 + 1;
        self.out.organisations.push(NewOrganisation {
            record: OrganisationRecord {
                id,
                code,
                name,
                kind,
                building_id: at.building,
                contact_name: Some(contact),
                lon: at.p[0],
                lat: at.p[1],
                generated: true,
            },
            contact_phone: Some(phone),
        });
    }

    pub(super) fn shop_org(&mut self, ctx: &Comm, at: Spot) {
        let goods = self.pick(&SHOP_GOODS);
        let u = self.rng.random::<f64>();
        let name = if u < 0.5 {
            let s = self.surname();
            format!("{}记{goods}", SURNAMES[s])
        } else if u < 0.75 {
            format!("{}{goods}", self.road(ctx))
        } else {
            format!("{}{goods}", stem(&ctx.short))
        };
        let code = self.credit_code(*b"92", ctx.region);
        self.org(OrgKind::Shop, name, code, at);
    }

    pub(super) fn community_orgs(&mut self, ctx: &Comm) {
        let Some(hall) = ctx.public else {
            return;
        };
        let name = format!("中共{}支部委员会", ctx.short);
        self.org(
            OrgKind::PartyBranch,
            name,
            format!("{}-O001", ctx.code),
            hall,
        );
        let chances = if ctx.pilot { 2 } else { 1 };
        let mut used: Vec<&str> = Vec::new();
        for _ in 0..chances {
            if self.chance(0.3) {
                let kind = self.pick(&SOCIAL);
                if used.contains(&kind) {
                    continue;
                }
                used.push(kind);
                let code = self.credit_code(*b"51", ctx.region);
                self.org(
                    OrgKind::SocialOrganisation,
                    format!("{}{kind}", ctx.short),
                    code,
                    hall,
                );
            }
        }
    }
}
