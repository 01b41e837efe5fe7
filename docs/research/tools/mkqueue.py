"""Order candidate files by what the dataset needs most; write queues for reviewers."""
import csv, glob, sys, yaml
from pathlib import Path
reg = {r['iso3']: r['region'] for r in csv.DictReader(open(Path(__file__).resolve().parents[3] / 'dataset/countries.csv'))}
def score(f):
    try:
        d = yaml.safe_load(open(f))
    except Exception:
        return -9
    a = d.get('agreement') or {}
    y = int(str(a.get('signed_on'))[:4])
    rs = {reg.get(str(p.get('country')).upper(), '?') for p in d.get('parties') or []}
    s = 0
    s += 3 if 2011 <= y <= 2013 else 2 if 2014 <= y <= 2016 else 0
    s += 2 if rs & {'Oceania', 'Africa'} else 0
    s += 1 if 'Americas' in rs else 0
    s += 1 if d.get('equipment') else 0
    return s
def main():
    names = sys.argv[1].split(',')          # reviewer names
    files = sys.argv[2:]
    files = sorted(files, key=lambda f: (-score(f), f))
    for i, n in enumerate(names):
        (Path(__file__).resolve().parents[1] / 'queue').mkdir(exist_ok=True)
        with open(Path(__file__).resolve().parents[1] / f'queue/{n}.txt', 'w') as fh:
            fh.write('\n'.join(files[i::len(names)]) + '\n')
        print(n, len(files[i::len(names)]))
main()
