// Test bench of templates/rtl/topn_stream.v (driven by had_hls/rtl/topn_sim.py).
// topn_config.vh defines P, L, D, N, MASKED, NBEATS (ROWS * ceil(L/P) beats in BEAT_FILE), ROWS, STALL_PCT (input
// idle probability per cycle, percent), SEED, MAX_CYCLES, OUT_FILE; GATE = the DUT is a synthesised netlist (no
// parameters); DUT = another module with topn_stream's ports and parameters L, D, N. Each beat line of BEAT_FILE is {pad[P-1:0], h[P*HW-1:0]} in hex.
// OUT_FILE lines: "I c" beat accepted at cycle c, "K c idx h" a kept key, "D c" out_done, "END c" / "TIMEOUT c".
`timescale 1ns/1ps
`include "topn_config.vh"
module tb;
    localparam HW = $clog2(`D + 1);
    localparam IW = (`L > 1) ? $clog2(`L) : 1;
    localparam BW = `P * HW + `P;
    reg clk = 1'b0, rst = 1'b1;
    reg in_valid = 1'b0;
    wire in_ready;
    reg [`P*HW-1:0] in_h = 0;
    reg [`P-1:0] in_pad = 0;
    wire out_valid, out_done;
    wire [IW-1:0] out_idx;
    wire [HW-1:0] out_h;
`ifdef GATE
    topn_stream dut (
`elsif DUT
    `DUT #(.L(`L), .D(`D), .N(`N)) dut (
`else
    topn_stream #(.P(`P), .L(`L), .D(`D), .N(`N), .MASKED(`MASKED)) dut (
`endif
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_h(in_h),
`ifdef HAS_PAD
        .in_pad(in_pad),
`endif
        .out_valid(out_valid), .out_idx(out_idx), .out_h(out_h), .out_done(out_done));

    reg [BW-1:0] beats [0:`NBEATS-1];
    integer fd, cycle, nb, dones, seed, r;
    initial begin
        $readmemh(`BEAT_FILE, beats);
        fd = $fopen(`OUT_FILE, "w");
        seed = `SEED;
        cycle = 0; nb = 0; dones = 0;
        repeat (3) @(posedge clk);
        rst <= 1'b0;
    end
    always #5 clk = ~clk;

    // drive: present beat nb with probability (100 - STALL_PCT)%, hold it until accepted
    always @(posedge clk) begin
        if (!rst) begin
            cycle <= cycle + 1;
            if (in_valid && in_ready) begin
                $fwrite(fd, "I %0d\n", cycle);
                nb = nb + 1;
            end
            if (out_valid) $fwrite(fd, "K %0d %0d %0d\n", cycle, out_idx, out_h);
            if (out_done) begin
                $fwrite(fd, "D %0d\n", cycle);
                dones = dones + 1;
            end
            if (nb < `NBEATS && (in_valid && !in_ready ? 1 : ($unsigned($random(seed)) % 100) >= `STALL_PCT)) begin
                in_valid <= 1'b1;
                {in_pad, in_h} <= beats[nb];
            end else begin
                in_valid <= 1'b0;
            end
            if (dones == `ROWS) begin
                $fwrite(fd, "END %0d\n", cycle);
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
