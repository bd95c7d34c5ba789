"""Build the labelled PII column set (``columns.json``) from its sources.

Run once; the result is committed and the split (``split.json``) was drawn once, at random,
before any tuning. Kept for the record of what each label means and where each column came
from::

    python benchmarks/data/pii/build.py SOURCE_DIR

``SOURCE_DIR`` holds the public files listed in ``PUBLIC`` (one copy of each, from the
repository and commit named there); the project's own tables are read from
``../shared/data``.

Labels are by the kind of value a column holds (``person_name``, ``email``, ``phone``,
``street_address``, ``payment_card``, ``ssn``, ``iban``, ``ip_address``, ``date_of_birth``)
or ``none``: a business's phone number or street address is labelled with its kind, since
the detector cannot tell whose number it is and both must be protected the same way. Free
text that quotes a phone number in a few rows is ``none`` (the column is not PII; the detector
reports such cells with low confidence). Bitcoin wallets, URLs, postcodes and ids are ``none``:
the detector does not look for them.

Per column at most 200 non-empty cells are kept, drawn at random. ``origin`` is ``real``
(values as published), ``derived`` (real values re-written: a real name list written
``snake_case``, ALL CAPS or ``Last, First``) or ``synthetic`` (generated here from
libphonenumber's metadata, the Luhn and mod-97 rules: a minority, for the national phone
formats, IBANs and card layouts no public file in reach had).
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2].parent / "shared" / "data"
MAX_VALUES = 200

PUBLIC: dict[str, tuple[str, str, str]] = {
    # file -> (repository, path, commit)
    "customers-100.csv": (
        "minhhoccode111/csvparser",
        "csv-files/customers-100.csv",
        "1bce5e3367fab78a1e5ba9577f127a0d073a343e",
    ),
    "leads-100.csv": (
        "minhhoccode111/csvparser",
        "csv-files/leads-100.csv",
        "1bce5e3367fab78a1e5ba9577f127a0d073a343e",
    ),
    "organizations-100.csv": (
        "minhhoccode111/csvparser",
        "csv-files/organizations-100.csv",
        "1bce5e3367fab78a1e5ba9577f127a0d073a343e",
    ),
    "people-100.csv": (
        "minhhoccode111/csvparser",
        "csv-files/people-100.csv",
        "1bce5e3367fab78a1e5ba9577f127a0d073a343e",
    ),
    "products-100.csv": (
        "minhhoccode111/csvparser",
        "csv-files/products-100.csv",
        "1bce5e3367fab78a1e5ba9577f127a0d073a343e",
    ),
    "us-500.csv": ("gcphendy/csv", "us-500.csv", "61f5c38490a9f660af8dfd5705ee3e4bb65bd808"),
    "csv_example_messy_input.csv": (
        "dedupeio/dedupe-examples",
        "csv_example/csv_example_messy_input.csv",
        "48916bf09205756a2948a30ec0275ac2e394288d",
    ),
    "patstat_input.csv": (
        "dedupeio/dedupe-examples",
        "patent_example/patstat_input.csv",
        "48916bf09205756a2948a30ec0275ac2e394288d",
    ),
    "AbtBuy_Buy.csv": (
        "dedupeio/dedupe-examples",
        "gazetteer_example/data/AbtBuy_Buy.csv",
        "48916bf09205756a2948a30ec0275ac2e394288d",
    ),
    "customer-data.csv": (
        "cantalupo/csv2json",
        "customer-data.csv",
        "343bfe0764ff94ee5971905abe120217a929e6d7",
    ),
    "sales_data_sample.csv": (
        "Sgupta1-prog/Sample_Sales_Data",
        "sales_data_sample.csv",
        "7615d34f04344a521ca759f23b867d8f9b23495d",
    ),
}

N = "none"
# file -> {column: label}; files under shared/data are named by their path there
COLUMNS: dict[str, dict[str, str]] = {
    "customers-100.csv": {
        "Customer Id": N,
        "First Name": "person_name",
        "Last Name": "person_name",
        "Company": N,
        "City": N,
        "Country": N,
        "Phone 1": "phone",
        "Phone 2": "phone",
        "Email": "email",
        "Subscription Date": N,
        "Website": N,
    },
    "leads-100.csv": {
        "Account Id": N,
        "Lead Owner": "person_name",
        "First Name": "person_name",
        "Last Name": "person_name",
        "Company": N,
        "Phone 1": "phone",
        "Phone 2": "phone",
        "Email 1": "email",
        "Email 2": "email",
        "Source": N,
        "Deal Stage": N,
        "Notes": N,
    },
    "organizations-100.csv": {
        "Organization Id": N,
        "Name": N,
        "Description": N,
        "Founded": N,
        "Industry": N,
        "Number of employees": N,
    },
    "people-100.csv": {
        "User Id": N,
        "First Name": "person_name",
        "Last Name": "person_name",
        "Sex": N,
        "Email": "email",
        "Phone": "phone",
        "Date of birth": "date_of_birth",
        "Job Title": N,
    },
    "products-100.csv": {
        "Name": N,
        "Description": N,
        "Brand": N,
        "Category": N,
        "Price": N,
        "Stock": N,
        "EAN": N,
        "Color": N,
        "Size": N,
        "Availability": N,
        "Internal ID": N,
    },
    "us-500.csv": {
        "first_name": "person_name",
        "last_name": "person_name",
        "company_name": N,
        "address": "street_address",
        "city": N,
        "county": N,
        "state": N,
        "zip": N,
        "phone1": "phone",
        "phone2": "phone",
        "email": "email",
        "web": N,
    },
    "csv_example_messy_input.csv": {
        "Site name": N,
        "Address": "street_address",
        "Zip": N,
        "Phone": "phone",
        "Fax": "phone",
        "Program Name": N,
        "Length of Day": N,
        "IDHS Provider ID": N,
        "Neighborhood": N,
        "Funded Enrollment": N,
        # the file's rows are shifted against its header (it is the "messy" example): the
        # labels say what the cells hold, whatever the header says
        "Eearly Head Start Fund": "person_name",
        "CC fund": N,
        "Executive Director": N,
        "Center Director": N,
        "NAEYC Valid Until": "person_name",
        "Email Address": N,
        "Ounce of Prevention Description": N,
        "Purple binder service type": "email",
        "Program Option": N,
    },
    "patstat_input.csv": {
        "person_id": N,
        "Lat": N,
        "Lng": N,
        "Coauthor": "person_name",
        "Name": N,
        "Class": N,
    },
    "AbtBuy_Buy.csv": {"title": N, "description": N, "price": N},
    "customer-data.csv": {
        "first_name": "person_name",
        "last_name": "person_name",
        "email": "email",
        "gender": N,
        "ip_address": "ip_address",
        "ssn": "ssn",
        "credit_card": "payment_card",
        "bitcoin": N,
        "street_address": "street_address",
    },
    "sales_data_sample.csv": {
        "ORDERNUMBER": N,
        "QUANTITYORDERED": N,
        "PRICEEACH": N,
        "SALES": N,
        "ORDERDATE": N,
        "PRODUCTCODE": N,
        "CUSTOMERNAME": N,
        "PHONE": "phone",
        "ADDRESSLINE1": "street_address",
        "CITY": N,
        "POSTALCODE": N,
        "TERRITORY": N,
        "CONTACTLASTNAME": "person_name",
        "CONTACTFIRSTNAME": "person_name",
    },
    "tables/titanic.csv": {
        "Name": "person_name",
        "Ticket": N,
        "Cabin": N,
        "Fare": N,
        "Age": N,
        "PassengerId": N,
    },
    "tables/compas_two_year.csv": {
        "name": "person_name",
        "first": "person_name",
        "last": "person_name",
        "dob": "date_of_birth",
        "c_case_number": N,
        "c_jail_in": N,
        "c_charge_desc": N,
        "decile_score": N,
        "compas_screening_date": N,
    },
    "tables/bike_sharing_hourly.csv": {
        "hr": N,
        "dteday": N,
        "temp": N,
        "windspeed": N,
        "cnt": N,
    },
    "tables/air_quality_uci.csv": {"Time": N, "CO(GT)": N, "T": N, "AH": N},
    "tables/california_housing.csv": {
        "longitude": N,
        "latitude": N,
        "median_income": N,
        "ocean_proximity": N,
        "total_rooms": N,
    },
    "tables/adult.csv": {
        "fnlwgt": N,
        "occupation": N,
        "native_country": N,
        "capital_gain": N,
        "marital_status": N,
    },
    "tables/telco_churn.csv": {
        "customerID": N,
        "PhoneService": N,
        "PaymentMethod": N,
        "TotalCharges": N,
        "MonthlyCharges": N,
    },
    "tables/movies.csv": {"Title": N, "Release Date": N, "Distributor": N, "IMDB Votes": N},
    "tables/nyc_taxis.csv": {
        "pickup": N,
        "distance": N,
        "fare": N,
        "pickup_zone": N,
        "payment": N,
    },
    "tables/penguins_raw.csv": {
        "studyName": N,
        "Individual ID": N,
        "Date Egg": N,
        "Comments": N,
        "Delta 15 N (o/oo)": N,
    },
    "tables/avito_1k.csv": {
        "user_id": N,
        "title": N,
        "description": N,
        "item_seq_number": N,
        "image_top_1": N,
        "deal_probability": N,
    },
    "tables/sms_spam.tsv": {"message": N},
    "tables/house_prices_kaggle.csv": {"LotArea": N, "Neighborhood": N, "YearBuilt": N},
    "tables/seattle_weather.csv": {"date": N, "precipitation": N, "weather": N},
    "tables/insurance.csv": {"bmi": N, "charges": N, "region": N},
    "tables/horse_colic.csv": {"hospital_number": N, "rectal_temp": N, "lesion_1": N},
    "tables/letter.csv": {"x.box": N},
    "tables/law_school_bar.csv": {"ID": N, "ugpa": N, "zfygpa": N},
    "tables/metro_traffic.csv": {"holiday": N, "temp": N, "traffic_volume": N},
    "tables/diamonds.csv": {"carat": N, "depth": N, "clarity": N},
    "tables/abalone.csv": {"whole_weight": N},
    "tables/automobile.csv": {"make": N, "bore": N, "price": N},
    "tables/bank_marketing.csv": {"balance": N, "job": N, "pdays": N},
    "dirty/hospital/clean.csv": {
        "ProviderNumber": N,
        "HospitalName": N,
        "Address1": "street_address",
        "City": N,
        "ZipCode": N,
        "CountyName": N,
        "PhoneNumber": "phone",
        "MeasureCode": N,
        "MeasureName": N,
        "Score": N,
        "Stateavg": N,
    },
    "dirty/beers/clean.csv": {
        "beer-name": N,
        "style": N,
        "abv": N,
        "brewery-name": N,
        "city": N,
        "brewery_id": N,
    },
    "dirty/ptype/data/geoplaces2.csv": {
        "placeID": N,
        "latitude": N,
        "the_geom_meter": N,
        "name": N,
        "address": "street_address",
        "zip": N,
        "url": N,
    },
    "dirty/ptype/data/data_gov_10151_1.csv": {
        "Match_addr": "street_address",
        "X": N,
        "Ref_ID": N,
        "ARC_Street": "street_address",
        "Name": N,
        "ZipCodes": N,
    },
    "dirty/ptype/data/accident2016.csv": {
        "Reference Number": N,
        "Grid Ref: Easting": N,
        "Accident Date": N,
        "Time (24hr)": N,
        "1st Road Class & No": N,
    },
    "dirty/ptype/data/survey.csv": {"Timestamp": N, "Gender": N, "Country": N, "comments": N},
    "dirty/ptype/data/inspection_outcomes.csv": {
        "URN": N,
        "Inspection date": N,
        "Event number": N,
        "Local authority": N,
    },
    "dirty/ptype/data/eucalyptus.csv": {"Locality": N, "Latitude": N, "PMCno": N},
    "dirty/ptype/data/usp05.csv": {"ID": N, "Effort": N},
}


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    raw = path.read_bytes().decode("utf-8-sig", errors="replace")
    delimiter = "\t" if path.suffix == ".tsv" else ","
    rows = list(csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter))
    return [h.strip() for h in rows[0]], rows[1:]


def _sample(values: list[str], rng: random.Random) -> list[str]:
    if len(values) > MAX_VALUES:
        values = rng.sample(values, MAX_VALUES)
    return values


def _real(source_dir: Path, rng: random.Random) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for file, columns in COLUMNS.items():
        if file in PUBLIC:
            repo, path, commit = PUBLIC[file]
            header, rows = _read(source_dir / file)
            source = f"github:{repo}@{commit[:12]}:{path}"
        else:
            header, rows = _read(SHARED / file)
            source = f"shared/data/{file}"
        for column, label in columns.items():
            i = header.index(column)
            cells = [r[i] for r in rows if i < len(r) and r[i].strip()]
            if not cells:
                continue
            out.append(
                {
                    "column": column,
                    "label": label,
                    "origin": "real",
                    "source": source,
                    "values": _sample(cells, rng),
                }
            )
    return out


def _names(source_dir: Path) -> list[tuple[str, str]]:
    """Real (first, last) pairs from three files."""
    pairs: list[tuple[str, str]] = []
    for file, first, last in (
        ("us-500.csv", "first_name", "last_name"),
        ("customer-data.csv", "first_name", "last_name"),
        ("people-100.csv", "First Name", "Last Name"),
    ):
        header, rows = _read(source_dir / file)
        a, b = header.index(first), header.index(last)
        pairs += [(r[a].strip(), r[b].strip()) for r in rows if r[a].strip() and r[b].strip()]
    header, rows = _read(SHARED / "tables/compas_two_year.csv")
    a, b = header.index("first"), header.index("last")
    pairs += [(r[a].strip().title(), r[b].strip().title()) for r in rows[:600]]
    return pairs


def _derived(source_dir: Path, rng: random.Random) -> list[dict[str, object]]:
    pairs = _names(source_dir)
    forms = [
        ("name", lambda f, s: f"{f}_{s}".lower()),
        ("guest", lambda f, s: f"{f}_{s}".lower()),
        ("customer", lambda f, s: f"{f} {s}".upper()),
        ("CUSTOMER_NAME", lambda f, s: f"{f} {s}".upper()),
        ("owner", lambda f, s: f"{s}, {f}"),
        ("full_name", lambda f, s: f"{s.upper()}, {f}"),
        ("username", lambda f, s: f"{f}.{s}".lower()),
        ("contact", lambda f, s: f"{f}{s}"),
        ("passenger", lambda f, s: f"{f[0]}. {s}"),
        ("Employee", lambda f, s: f"{f} {s}"),
        ("assigned_to", lambda f, s: f"{f} {s}"),
        ("patient", lambda f, s: f"{s.upper()} {f.upper()}"),
    ]
    out: list[dict[str, object]] = []
    for column, form in forms:
        chosen = rng.sample(pairs, MAX_VALUES)
        out.append(
            {
                "column": column,
                "label": "person_name",
                "origin": "derived",
                "source": "real first and last names (us-500, customer-data, people-100, "
                "compas) re-written",
                "values": [form(f, s) for f, s in chosen],
            }
        )
    # snake_case names whose column name says nothing
    chosen = rng.sample(pairs, MAX_VALUES)
    out.append(
        {
            "column": "guest_id",
            "label": "person_name",
            "origin": "derived",
            "source": "real names written first_last_last (the issue's shape)",
            "values": [f"{f}_{s}_{rng.choice(pairs)[1]}".lower() for f, s in chosen],
        }
    )
    return out


def _luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def _synthetic(rng: random.Random) -> list[dict[str, object]]:
    import phonenumbers
    from phonenumbers import PhoneNumberFormat as F
    from phonenumbers import PhoneNumberType as T

    out: list[dict[str, object]] = []

    def add(column: str, label: str, source: str, values: list[str]) -> None:
        out.append(
            {
                "column": column,
                "label": label,
                "origin": "synthetic",
                "source": source,
                "values": values,
            }
        )

    def phones(regions: list[str], fmt: int, n: int = 120) -> list[str]:
        values: list[str] = []
        while len(values) < n:
            region = rng.choice(regions)
            kind = rng.choice([T.MOBILE, T.FIXED_LINE])
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            digits = str(example.national_number)
            keep = max(2, len(digits) - 5)
            number = digits[:keep] + "".join(rng.choice("0123456789") for _ in digits[keep:])
            parsed = phonenumbers.parse("+" + str(example.country_code) + number, None)
            if phonenumbers.is_valid_number(parsed):
                values.append(phonenumbers.format_number(parsed, fmt))
        return values

    src = "libphonenumber example numbers with random subscriber digits, valid numbers only"
    add("telefono", "phone", src, phones(["ES", "IT", "MX", "AR"], F.NATIONAL))
    add("Telefon", "phone", src, phones(["DE", "AT", "CH"], F.NATIONAL))
    add("tel", "phone", src, phones(["FR", "BE"], F.NATIONAL))
    add("mobile_no", "phone", src, phones(["IN", "PK", "BD"], F.NATIONAL))
    add("contact_number", "phone", src, phones(["BR", "JP", "KR", "AU", "ZA"], F.INTERNATIONAL))
    add("phone_e164", "phone", src, phones(["NL", "SE", "PL", "GB", "US", "NG"], F.E164))
    add("whatsapp", "phone", src, phones(["KE", "EG", "TR", "ID"], F.INTERNATIONAL))
    add("emergency_contact", "phone", src, phones(["GB", "IE"], F.NATIONAL))
    add("numero", "phone", src, phones(["FR", "IT", "ES", "DE", "NL"], F.INTERNATIONAL))

    lengths = {"DE": 22, "FR": 27, "GB": 22, "NL": 18, "ES": 24, "IT": 27, "BE": 16, "PL": 28}

    def iban(country: str, spaced: bool) -> str:
        n = lengths[country] - 4
        bban = "".join(rng.choice("0123456789") for _ in range(n))
        if country == "GB":
            bban = "NWBK" + bban[4:]
        if country == "NL":
            bban = "ABNA" + bban[4:]
        if country == "IT":
            bban = "X" + bban[1:]
        number = "".join(str(int(c, 36)) for c in bban + country + "00")
        check = f"{98 - int(number) % 97:02d}"
        text = country + check + bban
        return " ".join(text[i : i + 4] for i in range(0, len(text), 4)) if spaced else text

    src = "random BBANs of each country's length with computed mod-97 check digits"
    add("iban", "iban", src, [iban(rng.choice(list(lengths)), False) for _ in range(120)])
    add("account", "iban", src, [iban(rng.choice(list(lengths)), True) for _ in range(120)])

    def card(prefix: str, length: int, sep: str) -> str:
        body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
        digits = _luhn_complete(body)
        if sep and length == 16:
            return sep.join(digits[i : i + 4] for i in range(0, 16, 4))
        return digits

    src = "random card numbers with issuer prefixes and Luhn check digits"
    prefixes = [("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("37", 15), ("6011", 16)]
    add("cc_number", "payment_card", src, [card(*rng.choice(prefixes), "") for _ in range(120)])
    add("card", "payment_card", src, [card(*rng.choice(prefixes[:4]), " ") for _ in range(120)])
    add("payment", "payment_card", src, [card(*rng.choice(prefixes[:4]), "-") for _ in range(120)])

    def ipv4() -> str:
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))

    def ipv6() -> str:
        return "2001:db8:" + ":".join(f"{rng.randint(0, 65535):x}" for _ in range(6))

    src = "random addresses"
    add("client", "ip_address", src, [ipv4() for _ in range(120)])
    add("remote_addr", "ip_address", src, [ipv6() for _ in range(120)])
    add("host", "ip_address", src, [rng.choice([ipv4(), ipv6()]) for _ in range(120)])

    def ssn() -> str:
        return f"{rng.randint(1, 665):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"

    add("social_security", "ssn", "random numbers by the SSA rules", [ssn() for _ in range(120)])
    add(
        "birth_date",
        "date_of_birth",
        "random dates 1930-2005",
        [
            f"{rng.randint(1930, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            for _ in range(120)
        ],
    )
    add(
        "DOB",
        "date_of_birth",
        "random dates 1930-2005",
        [
            f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(1930, 2005)}"
            for _ in range(120)
        ],
    )

    # number-shaped look-alikes
    src = "generated look-alikes"
    add(
        "hour",
        N,
        src,
        [
            repr(h + m / 60)
            for h, m in ((rng.randint(0, 23), rng.randint(0, 59)) for _ in range(200))
        ],
    )
    add("ratio", N, src, [repr(rng.random()) for _ in range(200)])
    add("lat_lon", N, src, [f"{rng.uniform(-90, 90):.15f}" for _ in range(200)])
    add("order_id", N, src, [str(rng.randint(10**15, 10**16 - 1)) for _ in range(200)])
    add("transaction_id", N, src, [str(rng.randint(10**12, 10**19 - 1)) for _ in range(200)])
    add(
        "timestamp_ms",
        N,
        src,
        [str(rng.randint(1_500_000_000_000, 1_800_000_000_000)) for _ in range(200)],
    )
    add("tracking", N, src, [f"1Z{rng.randint(10**15, 10**16 - 1)}" for _ in range(200)])
    add(
        "start_time",
        N,
        src,
        [
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
            for _ in range(200)
        ],
    )
    add(
        "sku",
        N,
        src,
        [
            f"{rng.randint(100, 999)}-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
            for _ in range(200)
        ],
    )
    add(
        "version",
        N,
        src,
        [
            f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}"
            for _ in range(200)
        ],
    )
    add("amount", N, src, [f"{rng.uniform(0, 1e7):,.2f}" for _ in range(200)])
    add(
        "isbn",
        N,
        src,
        [
            f"978-{rng.randint(0, 9)}-{rng.randint(100, 999)}-"
            f"{rng.randint(10000, 99999)}-{rng.randint(0, 9)}"
            for _ in range(200)
        ],
    )
    return out


def main(source_dir: Path) -> None:
    rng = random.Random(20261204)
    columns = _real(source_dir, rng) + _derived(source_dir, rng) + _synthetic(rng)
    for i, column in enumerate(columns):
        column["id"] = f"c{i:03d}"
    (HERE / "columns.json").write_text(
        json.dumps(columns, ensure_ascii=False, indent=0) + "\n", encoding="utf-8"
    )
    ids = [str(c["id"]) for c in columns]
    split = random.Random(7).sample(ids, len(ids))
    half = len(ids) // 2
    (HERE / "split.json").write_text(
        json.dumps({"design": sorted(split[:half]), "held_out": sorted(split[half:])}, indent=0)
        + "\n",
        encoding="utf-8",
    )
    labels: dict[str, int] = {}
    for c in columns:
        labels[str(c["label"])] = labels.get(str(c["label"]), 0) + 1
    print(len(columns), "columns", labels)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
