//! Households and residents: household sizes and composition, ages, registration, phones and
//! care tags.

use minqing_model::register::{
    CareTag, HouseholdRecord, NewResident, Registration, ResidentRecord, Sex, Tags,
};
use rand::Rng;

use super::communities::Comm;
use super::geometry::Density;
use super::{Gen, MAX_AGE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Child,
    Parent,
    Grandchild,
    Other,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Member {
    age: u32,
    sex: Sex,
    surname: usize,
}

/// What the members of a household share.
struct House {
    id: i64,
    registration: Registration,
    region: [u8; 6],
    /// Tags that apply to the members who qualify (独居老人 65+, 留守儿童 under 16, 低保).
    tags: Tags,
}

impl Gen<'_> {
    /// Fills `self.sizes` with `h` household sizes of at least 1 adding up to `p`.
    pub(super) fn household_sizes(&mut self, h: usize, p: usize) {
        self.sizes.clear();
        if h == 0 {
            return;
        }
        let lambda = p as f64 / h as f64 - 1.0;
        let mut sum = 0;
        for _ in 0..h {
            let s = 1 + self.poisson(lambda);
            sum += s;
            self.sizes.push(s);
        }
        while sum < p {
            let i = self.rng.random_range(0..h);
            self.sizes[i] += 1;
            sum += 1;
        }
        if sum > p {
            let mut big: Vec<usize> = (0..h).filter(|&i| self.sizes[i] > 1).collect();
            while sum > p && !big.is_empty() {
                let j = self.rng.random_range(0..big.len());
                let i = big[j];
                self.sizes[i] -= 1;
                sum -= 1;
                if self.sizes[i] == 1 {
                    big.swap_remove(j);
                }
            }
        }
    }

    pub(super) fn household(
        &mut self,
        ctx: &Comm,
        building_id: i64,
        code: String,
        door: String,
        size: usize,
        density: Density,
    ) {
        let id = self.out.households.len() as i64 + 1;
        self.out.households.push(HouseholdRecord {
            id,
            code,
            building_id,
            door,
            generated: true,
        });
        let floating = self.chance(match density {
            Density::Dense => 0.22,
            Density::Town => 0.12,
            Density::Rural => 0.05,
        });
        let (registration, region) = if floating {
            (Registration::Floating, self.origin(ctx.region))
        } else {
            (Registration::Registered, ctx.region)
        };
        let mut tags = Tags::default();
        if size == 1 && self.chance(0.4) {
            tags = tags.with(CareTag::ElderlyAlone);
        }
        if density != Density::Dense && self.chance(0.08) {
            tags = tags.with(CareTag::LeftBehindChild);
        }
        if self.chance(0.02) {
            tags = tags.with(CareTag::LowIncome);
        }
        let house = House {
            id,
            registration,
            region,
            tags,
        };
        self.compose(size);
        for i in 0..self.members.len() {
            let m = self.members[i];
            self.resident(ctx, &house, m);
        }
    }

    /// Fills `self.members` with a household of `n` people.
    fn compose(&mut self, n: usize) {
        self.members.clear();
        if n == 1 {
            let age = self.band(&[
                (18, 29, 22),
                (30, 44, 18),
                (45, 64, 18),
                (65, 79, 28),
                (80, 95, 14),
            ]);
            let male = if age >= 65 { 0.4 } else { 0.62 };
            let sex = if self.chance(male) {
                Sex::Male
            } else {
                Sex::Female
            };
            let surname = self.surname();
            self.members.push(Member { age, sex, surname });
            return;
        }
        let a = self.band(&[
            (22, 29, 10),
            (30, 39, 22),
            (40, 49, 24),
            (50, 59, 20),
            (60, 69, 14),
            (70, 84, 8),
            (85, 95, 2),
        ]);
        let head_male = self.chance(0.8);
        let head_sex = if head_male { Sex::Male } else { Sex::Female };
        let head_surname = self.surname();
        self.members.push(Member {
            age: a,
            sex: head_sex,
            surname: head_surname,
        });
        let mut family = head_surname;
        if self.chance(if n == 2 { 0.8 } else { 0.9 }) {
            let surname = self.surname();
            let age = if head_male {
                a as i32 + self.rng.random_range(-6..=3)
            } else {
                a as i32 + self.rng.random_range(-3..=6)
            };
            if !head_male {
                family = surname;
            }
            let sex = if head_male { Sex::Female } else { Sex::Male };
            self.members.push(Member {
                age: age.clamp(20, MAX_AGE as i32) as u32,
                sex,
                surname,
            });
        }
        let (mut children, mut parents) = (0, 0);
        while self.members.len() < n {
            let u = self.rng.random::<f64>();
            let relation = if a < 40 {
                if children == 0 || (u < 0.75 && children < 3) {
                    Relation::Child
                } else if parents < 2 {
                    Relation::Parent
                } else {
                    Relation::Other
                }
            } else if a < 60 {
                if children == 0 || (u < 0.6 && children < 3) {
                    Relation::Child
                } else if u < 0.8 && parents < 2 {
                    Relation::Parent
                } else if a >= 45 {
                    Relation::Grandchild
                } else {
                    Relation::Other
                }
            } else if children == 0 || (u < 0.35 && children < 3) {
                Relation::Child
            } else {
                Relation::Grandchild
            };
            let member = self.relative(relation, a, head_surname, family);
            match relation {
                Relation::Child => children += 1,
                Relation::Parent => parents += 1,
                _ => {}
            }
            self.members.push(member);
        }
    }

    fn relative(
        &mut self,
        relation: Relation,
        head_age: u32,
        head_surname: usize,
        family: usize,
    ) -> Member {
        let a = head_age;
        let age = match relation {
            Relation::Child if a < 40 => self.rng.random_range(0..=(a - 20).min(17)),
            Relation::Child => self.rng.random_range(a.saturating_sub(38)..=a - 20),
            Relation::Parent => (a + self.rng.random_range(22..=32)).min(MAX_AGE),
            Relation::Grandchild => {
                let hi = if a >= 60 { 25 } else { 17 };
                self.rng.random_range(0..=a.saturating_sub(42).min(hi))
            }
            Relation::Other => self.rng.random_range(16..=70),
        };
        let male = match relation {
            Relation::Child | Relation::Grandchild => 0.52,
            Relation::Parent => 0.45,
            Relation::Other => 0.5,
        };
        let sex = if self.chance(male) {
            Sex::Male
        } else {
            Sex::Female
        };
        let surname = match relation {
            Relation::Child | Relation::Grandchild if self.chance(0.96) => family,
            Relation::Parent if sex == Sex::Male => head_surname,
            _ => self.surname(),
        };
        Member { age, sex, surname }
    }

    fn resident(&mut self, ctx: &Comm, house: &House, m: Member) {
        let (registration, region) = match house.registration {
            Registration::Floating => (
                Registration::Floating,
                if self.chance(0.85) {
                    house.region
                } else {
                    self.origin(ctx.region)
                },
            ),
            Registration::Registered if self.chance(0.02) => {
                (Registration::Floating, self.origin(ctx.region))
            }
            Registration::Registered => (
                Registration::Registered,
                if self.chance(0.96) {
                    house.region
                } else {
                    self.origin_shanwei(house.region)
                },
            ),
        };
        let birth = self.birth(m.age);
        let (id_number, birth_date) = self.id_number(region, birth, m.age, m.sex);
        let name = self.name(m.surname, m.sex);
        let phone_rate = match m.age {
            0..12 => 0.0,
            12..18 => 0.72,
            18..70 => 0.9,
            _ => 0.55,
        };
        let phone = self.chance(phone_rate).then(|| self.mobile());
        let mut tags = Tags::default();
        if m.age >= 80 {
            tags = tags.with(CareTag::VeryOld);
        }
        if m.age >= 65 && house.tags.has(CareTag::ElderlyAlone) {
            tags = tags.with(CareTag::ElderlyAlone);
        }
        if m.age < 16 && house.tags.has(CareTag::LeftBehindChild) {
            tags = tags.with(CareTag::LeftBehindChild);
        }
        if house.tags.has(CareTag::LowIncome) {
            tags = tags.with(CareTag::LowIncome);
        }
        if self.chance(if m.age >= 60 { 0.09 } else { 0.025 }) {
            tags = tags.with(CareTag::Disabled);
        }
        if m.sex == Sex::Male && (20..=70).contains(&m.age) && self.chance(0.02) {
            tags = tags.with(CareTag::Veteran);
        }
        if m.age >= 18 {
            for (tag, p) in [
                (CareTag::CommunityCorrection, 0.0005),
                (CareTag::Released, 0.001),
                (CareTag::MentalDisorder, 0.004),
            ] {
                if self.chance(p) {
                    tags = tags.with(tag);
                }
            }
        }
        let id = self.out.residents.len() as i64 + 1;
        self.out.residents.push(NewResident {
            record: ResidentRecord {
                id,
                household_id: house.id,
                name,
                birth_date,
                sex: m.sex,
                registration,
                tags,
                generated: true,
            },
            id_number,
            phone,
        });
    }
}
