#!/usr/bin/env python3
"""Regenerates the demo catalog: items.csv (~500 SKUs) and locations.csv
(3 warehouses, 40 bins). Deterministic (fixed seed): running it again gives
byte-identical files. The CSVs are committed; nothing at build, test or run
time calls this script.

Usage: resources/demo/generate.py [OUTPUT_DIR]   (default: this folder)
"""
import csv
import os
import random
import sys

SEED = 20261128


def items(rng):
    rows = []

    def add(prefix, description, unit, point_range, qty_factor):
        n = sum(1 for r in rows if r[0].startswith(prefix + "-")) + 1
        point = rng.randint(*point_range)
        rows.append([f"{prefix}-{n:04d}", description, unit, point, point * qty_factor])

    # Fasteners
    for size in (3, 4, 5, 6, 8, 10, 12):
        for length in (10, 16, 20, 25, 30, 40, 50, 60, 80):
            if length < size * 2:
                continue
            add("FST", f"Hex bolt M{size}x{length}, zinc plated (box of 100)", "box", (5, 20), 3)
    for size in (3, 4, 5, 6, 8, 10, 12):
        add("FST", f"Nylon lock nut M{size}, stainless (pack of 50)", "pack", (5, 25), 4)
        add("FST", f"Flat washer M{size}, A2 stainless (pack of 100)", "pack", (5, 25), 4)
    for gauge in (3.5, 4.0, 4.5, 5.0):
        for length in (20, 30, 40, 50, 60):
            add("FST", f"Wood screw {gauge}x{length} mm countersunk, yellow zinc (box of 200)",
                "box", (4, 15), 3)
    for size in (3, 4, 5, 6, 8, 10, 12):
        for length in (8, 12, 16, 20, 25, 30, 40, 50):
            if length < size * 2:
                continue
            add("FST", f"Socket cap screw M{size}x{length}, 12.9 black (box of 100)", "box",
                (4, 15), 3)
        add("FST", f"Hex nut M{size}, zinc plated (box of 200)", "box", (5, 25), 4)
    for size in (6, 8, 10, 12, 16):
        add("FST", f"Threaded rod M{size} x 1 m, zinc plated", "ea", (10, 40), 3)
    for diameter in (5, 6, 8, 10, 12):
        for kind in ("nylon", "metal cavity"):
            add("FST", f"Wall plug {diameter} mm, {kind} (pack of 50)", "pack", (10, 30), 4)
    for length in (50, 60, 80, 100, 120):
        add("FST", f"Coach screw 8x{length} mm, hex head (box of 50)", "box", (3, 10), 3)
    for length in (25, 35, 50, 65):
        add("FST", f'Drywall screw {length} mm, fine thread "black phosphate" (1000)', "box",
            (2, 8), 4)

    # Electrical
    colours = ("black", "white", "red", "blue", "yellow/green", "brown", "grey")
    for length in (100, 150, 200, 300, 370):
        for colour in ("black", "natural"):
            add("ELE", f"Cable tie {length} mm, {colour} (pack of 100)", "pack", (10, 40), 5)
    for section in ("1.5", "2.5", "4", "6"):
        for colour in colours:
            add("ELE", f"Single-core wire {section} mm², {colour} (100 m roll)", "roll", (2, 10), 3)
    for watts in (4, 6, 8, 10, 13):
        for tone in ("warm white", "cool white"):
            for base in ("E27", "E14", "GU10"):
                add("ELE", f"LED bulb {base} {watts} W, {tone}", "ea", (20, 80), 4)
    for metres in (3, 5, 10, 25):
        add("ELE", f"Extension cord {metres} m, 3 outlets", "ea", (5, 20), 3)
    for amps in (6, 10, 16, 20, 32):
        add("ELE", f"Circuit breaker {amps} A, type B, 1 pole", "ea", (5, 30), 3)

    for kind in ("single socket", "double socket", "1-gang switch", "2-gang switch"):
        for colour in ("white", "black", "brushed steel"):
            add("ELE", f"Wall {kind}, {colour}", "ea", (5, 25), 3)
    for amps in (1, 2, 3, 5, 7, 10, 13):
        add("ELE", f"Cartridge fuse {amps} A (pack of 10)", "pack", (5, 20), 3)
    for ways in (2, 3, 5):
        add("ELE", f"Lever connector, {ways}-way (pack of 50)", "pack", (5, 20), 3)
    for size in ("small", "medium", "large"):
        add("ELE", f"Junction box IP65, {size}", "ea", (5, 20), 3)
    for size in ("AA", "AAA", "C", "D", "9V"):
        for kind in ("alkaline", "rechargeable NiMH"):
            add("ELE", f"Battery {size}, {kind} (pack of 4)", "pack", (10, 50), 4)
    for tone in ("warm white", "cool white", "RGB"):
        add("ELE", f"LED strip 5 m, {tone}, 12 V", "ea", (3, 12), 3)
    add("ELE", "Heat shrink tubing assortment (127 pieces)", "box", (3, 10), 3)
    add("ELE", "Insulating tape 19 mm x 20 m, black", "roll", (20, 60), 5)

    # Plumbing
    for d in (15, 22, 28, 35):
        add("PLB", f"Copper pipe {d} mm x 3 m", "ea", (10, 40), 3)
        add("PLB", f"Copper elbow {d} mm 90°, solder ring", "ea", (20, 60), 4)
        add("PLB", f"Copper tee {d} mm, solder ring", "ea", (10, 40), 4)
    for d in (32, 40, 50, 110):
        add("PLB", f"PVC waste pipe {d} mm x 2 m", "ea", (10, 30), 3)
        add("PLB", f"PVC elbow {d} mm 90°", "ea", (15, 50), 4)
    for inch in ('1/2"', '3/4"', '1"', '1 1/4"'):
        add("PLB", f"Ball valve {inch} brass, lever handle", "ea", (5, 20), 3)
        add("PLB", f"Flexible hose {inch} x 500 mm", "ea", (10, 30), 3)
    for d in (15, 22, 28):
        for kind in ("straight coupler", "elbow", "tee", "reducer"):
            add("PLB", f"Compression {kind} {d} mm, brass", "ea", (10, 30), 3)
    for kind in ("thermostatic", "lockshield"):
        for inch in ('1/2"', '3/4"'):
            add("PLB", f"Radiator valve {inch}, {kind}", "ea", (3, 12), 3)
    add("PLB", "PTFE tape 12 mm x 12 m", "roll", (30, 100), 5)
    add("PLB", "Silicone sealant, sanitary white (310 ml)", "ea", (20, 60), 4)
    add("PLB", "Pipe clip 15 mm (pack of 20)", "pack", (10, 30), 4)
    add("PLB", "Pipe clip 22 mm (pack of 20)", "pack", (10, 30), 4)

    # Packaging
    for size in ("20x15x10", "30x20x15", "40x30x20", "40x30x30", "60x40x40", "80x60x40"):
        for wall in ("single wall", "double wall"):
            add("PKG", f"Carton box {size} cm, {wall} (bundle of 25)", "bundle", (10, 50), 4)
    for width in (450, 500):
        for gauge in (17, 23):
            add("PKG", f"Stretch film {width} mm x 300 m, {gauge} µm", "roll", (10, 40), 3)
    for colour in ("clear", "brown", 'printed "FRAGILE"'):
        add("PKG", f"Packing tape 48 mm x 66 m, {colour}", "roll", (30, 120), 4)
    for width in (30, 50, 100, 150):
        add("PKG", f"Bubble wrap {width} cm x 50 m", "roll", (5, 20), 3)
    for size in ("C4", "C5", "DL", "A4 padded", "A5 padded"):
        add("PKG", f"Envelope {size} (box of 250)", "box", (5, 25), 3)
    for size in ("A5", "A4", "A3", "B4"):
        for kind in ("poly mailer", "cardboard mailer"):
            add("PKG", f"{kind.capitalize()} {size} (pack of 100)", "pack", (5, 25), 3)
    add("PKG", "Pallet, EUR 1200x800, wood", "ea", (20, 60), 2)
    add("PKG", "Void fill paper, 450 mm roll", "roll", (5, 15), 3)

    # Safety
    for size in ("S", "M", "L", "XL", "XXL"):
        add("SAF", f"Nitrile gloves, size {size} (box of 100)", "box", (10, 40), 4)
        add("SAF", f"Cut-resistant gloves level C, size {size}", "pair", (10, 30), 3)
        add("SAF", f"Hi-vis vest class 2, size {size}, yellow", "ea", (5, 20), 3)
        add("SAF", f"Safety boots S3, size {size}", "pair", (2, 8), 2)
    for size in range(36, 48):
        add("SAF", f"Safety shoes S1P, EU size {size}", "pair", (1, 5), 2)
    for size in ("S", "M", "L", "XL"):
        add("SAF", f"Leather work gloves, size {size}", "pair", (10, 30), 3)
        add("SAF", f"Thermal work gloves, size {size}", "pair", (5, 20), 3)
    add("SAF", "Knee pads, gel", "pair", (3, 10), 3)
    add("SAF", "Face shield, polycarbonate", "ea", (3, 10), 3)
    add("SAF", "Safety glasses, clear, anti-fog", "ea", (20, 60), 4)
    add("SAF", "Ear plugs, foam (200 pairs)", "box", (5, 20), 3)
    add("SAF", "Dust mask FFP2 (box of 20)", "box", (10, 40), 4)
    add("SAF", "First aid kit, workplace, 1-25 persons", "ea", (2, 6), 2)
    add("SAF", "Hard hat, white, ratchet", "ea", (5, 15), 3)

    # Tools
    for metres in (3, 5, 8, 10):
        add("TOL", f"Tape measure {metres} m", "ea", (5, 20), 3)
    for size in (6, 8, 10, 12, 13, 14, 17, 19, 22):
        add("TOL", f"Combination spanner {size} mm", "ea", (3, 10), 3)
    for kind in ("slotted 5.5", "slotted 8", "PH1", "PH2", "PZ1", "PZ2", "TX20", "TX25"):
        add("TOL", f"Screwdriver {kind}", "ea", (5, 15), 3)
    for diameter in (3, 4, 5, 6, 8, 10, 12):
        add("TOL", f"HSS drill bit {diameter} mm (pack of 5)", "pack", (5, 20), 3)
        add("TOL", f"Masonry drill bit {diameter} mm", "ea", (5, 20), 3)
    for kind in ("combination", "long nose", "side cutting", "water pump"):
        for length in (160, 200):
            add("TOL", f"Pliers, {kind}, {length} mm", "ea", (3, 10), 3)
    for teeth in (18, 24, 32):
        for length in (150, 300):
            add("TOL", f"Hacksaw blade {length} mm, {teeth} TPI (pack of 10)", "pack", (5, 15), 3)
    for kind in ("metric hex keys (9)", "torx keys (9)", "socket set 1/4\" (46)", "bit set (32)"):
        add("TOL", f"Tool set: {kind}", "set", (2, 8), 2)
    add("TOL", "Cordless drill 18 V, 2 batteries", "ea", (2, 6), 2)
    add("TOL", "Utility knife, retractable", "ea", (10, 30), 3)
    add("TOL", "Utility knife blades (pack of 10)", "pack", (20, 60), 4)
    add("TOL", "Claw hammer 450 g", "ea", (3, 10), 3)
    add("TOL", "Spirit level 600 mm", "ea", (3, 10), 3)

    # Office and warehouse consumables
    add("OFF", "Printer paper A4 80 g (ream of 500)", "ream", (20, 80), 5)
    add("OFF", "Shipping labels 100x150 mm, thermal (roll of 500)", "roll", (20, 80), 5)
    add("OFF", "Barcode labels 50x25 mm (roll of 1000)", "roll", (10, 40), 4)
    for colour in ("black", "blue", "red", "green"):
        add("OFF", f"Permanent marker, {colour}", "ea", (20, 60), 4)
    add("OFF", "Clipboard A4", "ea", (5, 15), 3)
    for colour in ("black", "blue", "red"):
        add("OFF", f"Ballpoint pen, {colour} (box of 50)", "box", (5, 20), 3)
    for colour in ("yellow", "pink", "green", "blue"):
        add("OFF", f"Sticky notes 76x76 mm, {colour} (pad of 100)", "pad", (10, 40), 4)
    for size in ("24/6", "26/6"):
        add("OFF", f"Staples {size} (box of 5000)", "box", (5, 20), 3)
    add("OFF", "Archive box, A4, brown (pack of 10)", "pack", (5, 15), 3)
    add("OFF", "Lever arch file A4, 80 mm, black", "ea", (10, 30), 3)
    add("OFF", "Whiteboard marker set, 4 colours", "set", (5, 20), 3)
    add("OFF", "Pallet label pouch A4 (pack of 100)", "pack", (5, 20), 3)
    return rows


def locations():
    rows = []
    for aisle in "AB":
        for rack in (1, 2, 3):
            for level in (1, 2, 3):
                rows.append(["east", f"{aisle}-{rack:02d}-{level:02d}"])
    for aisle in "ABC":
        for rack in (1, 2):
            for level in (1, 2):
                rows.append(["west", f"{aisle}-{rack:02d}-{level:02d}"])
    for rack in (1, 2):
        for level in range(1, 6):
            rows.append(["north", f"A-{rack:02d}-{level:02d}"])
    return rows


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = random.Random(SEED)
    item_rows = items(rng)
    with open(os.path.join(out, "items.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["sku", "description", "unit", "reorder_point", "reorder_qty"])
        w.writerows(item_rows)
    with open(os.path.join(out, "locations.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["warehouse", "location"])
        w.writerows(locations())
    print(f"{len(item_rows)} items, {len(locations())} locations")


if __name__ == "__main__":
    main()
