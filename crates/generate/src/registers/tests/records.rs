//! Counts, places, identities and determinism of the records.

use chrono::NaiveDate;
use minqing_model::register::{BuildingKind, IdNumber, OrgKind, Registration};

use super::*;
use crate::events::inside;
use crate::registers::buildings::door;
use crate::registers::communities::{short_community, stem};
use crate::registers::identity::{credit_check, org_check};

#[test]
fn households_and_residents_add_up_per_grid() {
    let areas = small();
    for scale in [1.0, 0.5, 0.02, 0.0] {
        let r = registers(&areas, &opts(scale));
        let grid_of = building_grids(&r);
        let mut hh: HashMap<&str, usize> = HashMap::new();
        let mut people: HashMap<&str, usize> = HashMap::new();
        let mut per_household = vec![0usize; r.households.len()];
        for (i, h) in r.households.iter().enumerate() {
            assert_eq!(h.id, i as i64 + 1);
            *hh.entry(grid_of[h.building_id as usize - 1]).or_default() += 1;
            assert_eq!(
                r.buildings[h.building_id as usize - 1].kind,
                BuildingKind::Residential
            );
        }
        for (i, p) in r.residents.iter().enumerate() {
            assert_eq!(p.record.id, i as i64 + 1);
            let h = &r.households[p.record.household_id as usize - 1];
            *people
                .entry(grid_of[h.building_id as usize - 1])
                .or_default() += 1;
            per_household[h.id as usize - 1] += 1;
        }
        assert!(per_household.iter().all(|&n| n >= 1));
        for g in areas.iter().filter(|a| a.level == Level::Grid) {
            let (h, p) = counts(g.households, g.population, scale);
            assert!(h >= 1 && p >= h);
            if scale > 0.0 && (scale * f64::from(g.population)).round() as usize >= h {
                assert_eq!(p, (scale * f64::from(g.population)).round() as usize);
            }
            assert_eq!(hh.get(g.code.as_str()).copied().unwrap_or(0), h, "{scale}");
            assert_eq!(
                people.get(g.code.as_str()).copied().unwrap_or(0),
                p,
                "{scale}"
            );
        }
    }
    assert_eq!(counts(0, 10, 1.0), (0, 0));
    assert_eq!(counts(3, 9, 0.02), (1, 1));
    assert_eq!(counts(300, 960, 0.5), (150, 480));
}

#[test]
fn records_lie_in_their_areas() {
    let areas = small();
    let r = registers(&areas, &opts(1.0));
    let geom: HashMap<&str, &MultiPolygon<f64>> =
        areas.iter().map(|a| (a.code.as_str(), &a.geom)).collect();
    for (i, b) in r.buildings.iter().enumerate() {
        assert_eq!(b.id, i as i64 + 1);
        let g = b.code.split("-B").next().unwrap();
        assert!(inside(geom[g], b.lon, b.lat), "{}", b.code);
        assert!(b.generated && b.outline.is_none());
        assert!(b.address.starts_with("城区凤山街道"), "{}", b.address);
        assert!(b.address.ends_with('号'));
    }
    let kinds: HashSet<BuildingKind> = r.buildings.iter().map(|b| b.kind).collect();
    for k in [
        BuildingKind::Residential,
        BuildingKind::Shop,
        BuildingKind::Public,
    ] {
        assert!(kinds.contains(&k), "{k:?}");
    }
    // dense grids have tall buildings, the rural one low houses
    for b in r
        .buildings
        .iter()
        .filter(|b| b.kind == BuildingKind::Residential)
    {
        if b.code.starts_with(DENSE_COMM) {
            assert!((6..=33).contains(&b.floors), "{}", b.floors);
        } else if b.code.starts_with("441502003201002") {
            assert!((1..=4).contains(&b.floors));
        }
    }
    let codes: HashSet<&str> = r.places.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes.len(), r.places.len());
    for (i, p) in r.places.iter().enumerate() {
        assert_eq!(p.id, i as i64 + 1);
        let owner = p.code.split("-P").next().unwrap();
        assert!(inside(geom[owner], p.lon, p.lat), "{}", p.code);
        if let Some(b) = p.building_id {
            let b = &r.buildings[b as usize - 1];
            assert_eq!((b.lon, b.lat), (p.lon, p.lat));
        }
        match p.kind.class() {
            PlaceClass::Risk => {
                assert!(matches!(p.risk_level, Some(1..=4)) && p.state.is_none());
            }
            PlaceClass::Thing => assert!(p.state.is_some() && p.risk_level.is_none()),
            PlaceClass::Service => assert!(p.state.is_none() && p.risk_level.is_none()),
        }
    }
    assert!(r.places.iter().any(|p| p.name == "凤翔社区党群服务中心"));
    assert!(r.places.iter().any(|p| p.name == "布金村党群服务中心"));
    let org_codes: HashSet<&str> = r
        .organisations
        .iter()
        .map(|o| o.record.code.as_str())
        .collect();
    assert_eq!(org_codes.len(), r.organisations.len());
    for (i, o) in r.organisations.iter().enumerate() {
        assert_eq!(o.record.id, i as i64 + 1);
        let b = &r.buildings[o.record.building_id.unwrap() as usize - 1];
        assert_eq!((b.lon, b.lat), (o.record.lon, o.record.lat));
        if o.record.kind == OrgKind::PartyBranch {
            assert!(o.record.code.ends_with("-O001"));
        } else {
            let c = o.record.code.as_bytes();
            assert_eq!(c.len(), 18);
            assert_eq!(org_check(&c[8..16]), c[16]);
            assert_eq!(credit_check(&c[..17]), c[17]);
        }
    }
    let branches = r
        .organisations
        .iter()
        .filter(|o| o.record.kind == OrgKind::PartyBranch)
        .count();
    assert_eq!(branches, 2);
}

#[test]
fn id_numbers_and_phones_are_valid_and_unique() {
    let r = registers(&small(), &opts(1.0));
    let end = NaiveDate::from_ymd_opt(END.0, END.1, END.2).unwrap();
    let mut ids = HashSet::new();
    let mut phones = HashSet::new();
    for p in &r.residents {
        let id = IdNumber::parse(p.id_number.expose()).unwrap();
        assert_eq!(id.birth_date(), Some(p.record.birth_date));
        assert_eq!(id.sex(), p.record.sex);
        assert!(ids.insert(id.expose().to_owned()));
        assert!(age_on(p.record.birth_date, end) <= MAX_AGE);
        if p.record.registration == Registration::Registered {
            assert!(id.expose().starts_with("4415"), "{}", id.expose());
        }
        if let Some(ph) = &p.phone {
            assert_eq!(&check_phone(ph).unwrap(), ph);
            assert_eq!(ph.len(), 11);
            assert!(phones.insert(ph.clone()));
            assert!(age_on(p.record.birth_date, end) >= 12);
        }
        let name = p.record.name.chars().count();
        assert!((2..=4).contains(&name), "{}", p.record.name);
        assert!(p.record.generated);
    }
    for o in &r.organisations {
        let ph = o.contact_phone.as_ref().unwrap();
        assert_eq!(&check_phone(ph).unwrap(), ph);
        assert!(phones.insert(ph.clone()));
        assert!(o.record.contact_name.is_some());
    }
    let own = r
        .residents
        .iter()
        .filter(|p| p.id_number.expose().starts_with("441502"))
        .count();
    assert!(own * 10 > r.residents.len() * 7, "{own}");
}

#[test]
fn same_seed_same_registers() {
    let areas = small();
    let a = registers(&areas, &opts(0.3));
    let b = registers(&areas, &opts(0.3));
    let c = registers(
        &areas,
        &RegisterOptions {
            seed: 12,
            ..opts(0.3)
        },
    );
    assert_eq!(a.buildings, b.buildings);
    assert_eq!(a.places, b.places);
    assert_eq!(a.households, b.households);
    let people = |r: &Registers| {
        r.residents
            .iter()
            .map(|p| {
                (
                    p.record.clone(),
                    p.id_number.expose().to_owned(),
                    p.phone.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let orgs = |r: &Registers| {
        r.organisations
            .iter()
            .map(|o| (o.record.clone(), o.contact_phone.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(people(&a), people(&b));
    assert_eq!(orgs(&a), orgs(&b));
    assert_ne!(people(&a), people(&c));
    assert_eq!(a.residents.len(), c.residents.len());
}

#[test]
fn names_and_check_characters() {
    assert_eq!(short_community("凤翔社区居委会"), "凤翔社区");
    assert_eq!(short_community("河南社区居民委员会"), "河南社区");
    assert_eq!(short_community("布金村民委员会"), "布金村");
    assert_eq!(short_community("欧田村委会"), "欧田村");
    assert_eq!(short_community("场部社区"), "场部社区");
    assert_eq!(stem("凤山街道"), "凤山");
    assert_eq!(stem("博美镇"), "博美");
    assert_eq!(stem("布金村"), "布金");
    assert_eq!(door(0, 6, 6), "101");
    assert_eq!(door(13, 30, 10), "502");
    // a published example of a unified social credit code
    let c = b"91350100M000100Y43";
    assert_eq!(org_check(&c[8..16]), c[16]);
    assert_eq!(credit_check(&c[..17]), c[17]);
}
