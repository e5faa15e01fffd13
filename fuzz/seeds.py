#!/usr/bin/env python3
"""Make the committed seed inputs of fuzz/corpus/ from the project's own fixtures (run once, and
again when the fixtures change): key-event fixtures in the keys target's binary format, a .zip of
the basic export, the HMIS CSV files of tests/fixtures/{hmis,station,station-delta}, the packaged
config, and a few request bodies. Inputs whose licence forbids copying are read at run time by
run.sh instead (see docs/FUZZING.md)."""
import glob, io, os, struct, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")

def out(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# keys: a cap byte, then 6 bytes per event: dt u16 LE, type, code, value i8, flag (0xFF = unplug).
for path in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/keys/*.events"))):
    data = bytearray([31])
    last = None
    for line in open(path):
        parts = line.split()
        if not parts or parts[0] in ("#", "expect") or line.startswith("#"):
            continue
        if parts[0] == "unplug":
            data += bytes([0, 0, 0, 0, 0, 0xFF])
            continue
        try:
            t, kind, code, value = (int(p) for p in parts[:4])
        except ValueError:
            continue
        if kind not in (0, 1) or code > 255:
            continue
        dt = 0 if last is None else min(max(t - last, 0), 0xFFFF)
        last = t
        data += struct.pack("<HBBbB", dt, kind, code, max(-128, min(127, value)), 0)
    out("keys", os.path.basename(path), bytes(data))

files = {"Export.csv": "import_export", "Project.csv": "import_project",
         "Client.csv": "import_client", "Enrollment.csv": "import_enrollment",
         "Exit.csv": "import_exit", "Services.csv": "import_services"}
for folder in ["hmis/basic", "hmis/delta", "hmis/fy2026", "hmis/odd_rows", "station", "station-delta"]:
    for name, target in files.items():
        p = os.path.join(ROOT, "tests/fixtures", folder, name)
        if os.path.exists(p):
            out(target, folder.replace("/", "_") + "_" + name, open(p, "rb").read())

buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    for p in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/hmis/basic/*.csv"))):
        z.write(p, "export/" + os.path.basename(p))
out("import_zip", "basic.zip", buf.getvalue())

out("config", "packaged.toml", open(os.path.join(ROOT, "packaging/scanstation.toml"), "rb").read())
out("config", "minimal.toml", b'[station]\nid = "lobby-1"\n')

bodies = [
    b'\x00{"project_id":"1001","service_code":"484","service_date":"2024-03-01","units":1,"unit_value":"0.00","name":"Lunch","lane":"main"}',
    b'\x01{"code":"C100"}', b'\x01{"client_id":"C100","source":"roster"}', b'\x01{"scan_id":1}',
    b'\x02{"batch_id":null}', b'\x03{"code":"C100\\r\\n"}', b'\x04{}',
    b'\x05q=mar%20gon&dob=1990-01-01', b'\x06state=failed&limit=5', b'\x07main',
]
for i, b in enumerate(bodies):
    out("web_json", "body%d" % i, b)
