// had-hls co-simulation test bench (Icarus Verilog and Verilator --timing share it).
// `include "cosim_config.vh" (written by had_hls.rtl) defines: NBEATS, L, E, QW, VW, IN_W, MAX_CYCLES,
// VEC_FILE, OUT_FILE, STALL_SEED (0 = no back-pressure), and DUMP_VCD / VCD_FILE when the build can write an
// activity file (DUMP_DEPTH / DUMP_SCOPE, when defined, dump only that many levels of that scope: a flat netlist's
// own nets, not its cell models' insides). Run-time plusargs: +nbeats=B runs only the first B beats; +vcd dumps activity (DUMP_VCD builds);
// +stop=C ends the run after C cycles (bounds the size of an activity file; Verilator ignores $dumpoff);
// +start=S begins the activity file at cycle S (a steady-state window [S, C) once the keys are loaded);
// +rows=R ends the run after R result rows (long sequences: the first query rows are compared, not all L).
// Input file: NBEATS lines of IN_W-bit hex words {pad, v, k, q} (one token each, L per input vector).
// Output file: "I <cycle>" per accepted input beat, "C <cycle> <hex>" per context row leaving the core,
// "Y <cycle> <hex>" per result row, then "END <cycle>" (or "TIMEOUT <cycle>").
`timescale 1ns/1ps
`include "cosim_config.vh"
`ifdef DUMP_SCOPE
`define HAD_DUMPVARS $dumpvars(`DUMP_DEPTH, `DUMP_SCOPE)
`else
`define HAD_DUMPVARS $dumpvars(0, dut)
`endif
module tb;
    reg clk = 1'b0;
    reg rst = 1'b1;
    always #5 clk = ~clk;

    reg [`IN_W-1:0] vec [0:`NBEATS-1];
    integer fd, cycle, nin, nout, lfsr, nbeats, stop, start, vcd_on, rows;

    wire in_ready, out_valid, ctx_mon_valid, busy;
    wire [`E*`YW-1:0] out_data;
    wire [`E*`CW-1:0] ctx_mon_data;
    reg out_ready;
    wire [`IN_W-1:0] word = vec[nin < nbeats ? nin : 0];
    wire in_valid = !rst && (nin < nbeats);

    cosim_dut dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready),
        .in_q(word[`E*`QW-1:0]), .in_k(word[2*`E*`QW-1:`E*`QW]),
        .in_v(word[2*`E*`QW+`E*`VW-1:2*`E*`QW]), .in_pad(word[`IN_W-1]),
        .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data),
        .ctx_mon_valid(ctx_mon_valid), .ctx_mon_data(ctx_mon_data), .busy(busy));

    initial begin
        nbeats = `NBEATS;
        stop = 0;
        if (!$value$plusargs("stop=%d", stop)) stop = 0;
        if (!$value$plusargs("rows=%d", rows)) rows = 0;
        if ($value$plusargs("nbeats=%d", nbeats)) if (nbeats > `NBEATS) nbeats = `NBEATS;
        $readmemh(`VEC_FILE, vec);
        fd = $fopen(`OUT_FILE, "w");
`ifdef DUMP_VCD
        if (!$value$plusargs("start=%d", start)) start = 0;
        vcd_on = $test$plusargs("vcd");
        if (vcd_on != 0 && start == 0) begin
            $dumpfile(`VCD_FILE);
            `HAD_DUMPVARS;
        end
`else
        start = 0; vcd_on = 0;
`endif
        cycle = 0; nin = 0; nout = 0; lfsr = `STALL_SEED; out_ready = 1'b1;
        repeat (2) @(posedge clk);
        rst <= 1'b0;
    end

    always @(posedge clk) begin
        if (!rst) begin
            cycle <= cycle + 1;
`ifdef DUMP_VCD
            if (vcd_on != 0 && start > 0 && cycle == start) begin
                $dumpfile(`VCD_FILE);
                `HAD_DUMPVARS;
            end
`endif
            if (in_valid && in_ready) begin
                $fwrite(fd, "I %0d\n", cycle);
                nin <= nin + 1;
            end
            if (ctx_mon_valid) $fwrite(fd, "C %0d %h\n", cycle, ctx_mon_data);
            if (out_valid && out_ready) begin
                $fwrite(fd, "Y %0d %h\n", cycle, out_data);
                nout = nout + 1;
                if (nout == nbeats || (rows > 0 && nout == rows)) begin
                    $fwrite(fd, "END %0d\n", cycle);
                    $fclose(fd);
                    $finish;
                end
            end
            if (`STALL_SEED != 0) begin
                lfsr = (lfsr >> 1) ^ ((lfsr & 1) ? 32'hB4BCD35C : 0);
                out_ready <= lfsr[0] | lfsr[1];
            end
            if (stop > 0 && cycle >= stop) begin
                $fwrite(fd, "STOP %0d\n", cycle);
                $fclose(fd);
                $finish;
            end
            if (cycle >= `MAX_CYCLES) begin
                $fwrite(fd, "TIMEOUT %0d\n", cycle);
                $fclose(fd);
                $finish;
            end
        end
    end
endmodule
