"""Writes the import fixtures of tests/imports.rs (run once; the files are committed):

    python3 -m venv /tmp/xlsxenv && /tmp/xlsxenv/bin/pip install openpyxl
    /tmp/xlsxenv/bin/python tests/imports/make_fixtures.py

Every ID number is made here with a valid GB 11643 check digit (all of them invented).
"""

import datetime
import json
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(prefix17):
    s = sum(int(d) * w for d, w in zip(prefix17, W))
    return prefix17 + "10X98765432"[s % 11]


def write(name, text):
    (HERE / name).write_text(text, encoding="utf-8")


write(
    "buildings.csv",
    "编码,地址,类型,楼层(层),经度,纬度,备注\n"
    "IMP-B1,汕尾市城区测试路1号,住宅,6,115.3700,22.7900,\n"
    "IMP-B2,汕尾市城区测试路2号,shop,2,115.3710,22.7905,临街\n",
)
write(
    "households.csv",
    "户号,楼栋编码,房号\nIMP-H1,IMP-B1,101\nIMP-H2,IMP-B1,102\nIMP-H3,IMP-B2,201\n",
)
people = [
    ("IMP-H1", "陈测甲", id_number("44150219400101001"), "13800000001", "", "男", "户籍", "独居老人、高龄"),
    ("IMP-H1", "陈测乙", id_number("44150219420202002"), "", "1942-02-02", "女", "流动", ""),
    ("IMP-H2", "林测丙", id_number("44150219800303003"), "0660-3388123", "", "", "registered", "veteran"),
    ("IMP-H2", "林测丁", id_number("44150220100404004"), "", "2010/4/4", "", "户籍", "留守儿童"),
]
head = "户号,姓名,身份证号,联系电话,出生日期,性别,户籍类型,标签\n"
write("residents.csv", head + "".join(",".join(p) + "\n" for p in people))
# The same file with one bad row (line 4: a mistyped ID number, its check digit wrong).
bad = list(people)
good_id = bad[2][2]
wrong = good_id[:17] + ("0" if good_id[17] != "0" else "1")
bad[2] = bad[2][:2] + (wrong,) + bad[2][3:]
write("residents_one_bad_row.csv", head + "".join(",".join(p) + "\n" for p in bad))

write(
    "places.csv",
    "code,name,type,risk_level,state,building_code,lon,lat\n"
    "IMP-P1,测试长者饭堂,长者饭堂,,,IMP-B1,,\n"
    "IMP-P2,测试加油站,fuel_station,3,,,115.3720,22.7910\n"
    "IMP-P3,测试消防栓,消防栓,,损坏,,115.3701,22.7901\n",
)
write(
    "organisations.csv",
    "统一社会信用代码,单位名称,组织类型,所在建筑,联系人,联系电话\n"
    "IMP-O1,测试物业公司,物业公司,IMP-B1,王测明,13800000009\n",
)
features = [
    {
        "type": "Feature",
        "properties": {"code": "IMP-G1", "address": "汕尾市城区测试路3号", "kind": "school", "floors": 4},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[115.3730, 22.7900], [115.3736, 22.7900], [115.3736, 22.7905],
                             [115.3730, 22.7905], [115.3730, 22.7900]]],
        },
    },
    {
        "type": "Feature",
        "properties": {"编码": "IMP-G2", "地址": "汕尾市城区测试路4号", "类型": "其他"},
        "geometry": {"type": "Point", "coordinates": [115.3740, 22.7902]},
    },
]
write("buildings.geojson", json.dumps({"type": "FeatureCollection", "features": features},
                                      ensure_ascii=False, indent=1) + "\n")

# A spreadsheet as an office keeps it: a title row, then the header, ID numbers as text, a
# birth date as a date cell.
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "人口"
ws.append(["测试社区实有人口登记表"])
ws.append(["户号", "姓名", "身份证号", "联系电话", "出生日期", "性别", "户籍类型", "标签", "备注"])
ws.append(["IMP-H3", "黄测戊", id_number("44150219550505005"), "13800000005",
           datetime.date(1955, 5, 5), "男", "户籍", "残疾,低保", ""])
ws.append(["IMP-H3", "黄测己", id_number("44150219600606006"), None, None, "女", "流动", None, "租户"])
for row in ws.iter_rows(min_row=3, min_col=3, max_col=3):
    for c in row:
        c.number_format = "@"
ws.cell(row=3, column=5).number_format = "yyyy-mm-dd"
wb.save(HERE / "residents.xlsx")
print("written to", HERE)
