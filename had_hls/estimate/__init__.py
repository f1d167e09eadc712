"""Resource, timing and power estimates of the RTL attention cores, the report writer and design-space sweeps.

- :mod:`synth`: Yosys ``synth_xilinx -family xcup`` counts + memory inventory; :mod:`timing`: nextpnr-ecp5 Fmax
  proxy; :mod:`power`: activity (co-simulation VCD) x published energy coefficients; :mod:`area`: the one area
  figure (LUT-equivalents on the target part); :mod:`report`: ``run_report`` (reads cosim.json); :mod:`report_text`:
  the method section, ``format_summary`` and report.md; :mod:`vitis`: the Vitis HLS reports found under hls/;
  :mod:`sweep`: design-space sweep over L, d, N, P; :mod:`plots`: PNGs.
"""
