"""Order candidate files by what the dataset's coverage targets need most; write reviewer queues.

Needs are computed from the dataset as it is now (years 2011-2025 short of 10 agreements,
UN regions short of 30, states not yet present, equipment items, venues), so the queue
follows the dataset as it grows instead of a fixed guess.
"""
import collections, csv, sys, yaml
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
reg = {r['iso3']: r['region'] for r in csv.DictReader(open(ROOT / 'dataset/countries.csv'))}
agreements = list(csv.DictReader(open(ROOT / 'dataset/agreements.csv')))
parties = list(csv.DictReader(open(ROOT / 'dataset/parties.csv')))
years = collections.Counter(a['signed_on'][:4] for a in agreements)
by_agreement = collections.defaultdict(set)
for p in parties:
    by_agreement[p['agreement_id']].add(p['country_iso3'])
regions = collections.Counter(r for s in by_agreement.values() for r in {reg.get(c) for c in s})
states = {c for s in by_agreement.values() for c in s}


def score(f):
    try:
        d = yaml.safe_load(open(f))
        a = d.get('agreement') or {}
        y = str(a.get('signed_on'))[:4]
    except Exception:
        return -9
    ps = {str(p.get('country')).upper() for p in d.get('parties') or []}
    s = max(0, 10 - years[y]) if '2011' <= y <= '2025' else -5
    s += sum(max(0, 30 - regions[r]) / 5 for r in {reg.get(c) for c in ps} if r)
    s += 2 * len(ps - states)
    s += min(3, len(d.get('equipment') or []))
    s += 1 if a.get('venue_city') else 0
    return s


def main():
    names = sys.argv[1].split(',')
    files = sorted(sys.argv[2:], key=lambda f: (-score(f), f))
    (ROOT / 'docs/research/queue').mkdir(exist_ok=True)
    for i, n in enumerate(names):
        mine = files[i::len(names)]
        (ROOT / f'docs/research/queue/{n}.txt').write_text('\n'.join(mine) + '\n')
        print(n, len(mine))


main()
