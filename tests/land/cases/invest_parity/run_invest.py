"""Run InVEST's carbon model on a parity case (in InVEST's own venv, not hesuan's).

Usage: ``/tmp/invest/bin/python run_invest.py <input dir> <workspace>``; the input dir holds
``lulc_bas.tif``, ``lulc_alt.tif`` and ``pools.csv``. See SOURCE.md.
"""

import sys

import natcap.invest
import natcap.invest.carbon as carbon

inp, out = sys.argv[1], sys.argv[2]
args = {
    "workspace_dir": out, "results_suffix": "", "n_workers": -1,
    "lulc_bas_path": f"{inp}/lulc_bas.tif", "calc_sequestration": True,
    "lulc_alt_path": f"{inp}/lulc_alt.tif", "carbon_pools_path": f"{inp}/pools.csv",
    "lulc_bas_year": 2016, "lulc_alt_year": 2030, "do_valuation": True,
    "price_per_metric_ton_of_c": 43, "discount_rate": -7.1, "rate_change": 2.8,
}
carbon.execute(args)
print(natcap.invest.__version__)
