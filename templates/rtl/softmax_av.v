// had-hls RTL twin of the SparseAV / DenseAV loops of templates/hls/nnet_had_attention.h / nnet_fp_attention.h
// (golden.had_exp_weights / fp_exp_weights + the sums of golden.normalise_av).
//   table_rom         : asynchronous ROM loaded with $readmemh from a file written by had_hls.rtl from the spec
//                       (the SAME integers as spec.exp_table / spec.recip_table); table_rom_sync: registered read.
//   softmax_av_lanes  : P lanes per cycle:  S += sum_p e_p;  acc[c] += sum_p e_p * v_p[c]   (registered, exact;
//                       e unsigned EW bits, v signed VW bits, acc signed AVW bits = spec.widths['av_acc']).
`default_nettype none
module table_rom #(
    parameter DEPTH = 16,
    parameter AW    = 4,
    parameter DW    = 18,
    parameter FILE  = "table.hex"
) (
    input  wire [AW-1:0] addr,
    output wire [DW-1:0] data
);
    reg [DW-1:0] rom [0:DEPTH-1];
    initial $readmemh(FILE, rom);
    assign data = (addr < DEPTH) ? rom[addr] : {DW{1'b0}};
endmodule

// table_rom_sync: the same table with a registered read (en = read this cycle): Yosys maps it to block RAM.
module table_rom_sync #(
    parameter DEPTH = 16,
    parameter AW    = 4,
    parameter DW    = 18,
    parameter FILE  = "table.hex"
) (
    input  wire          clk,
    input  wire          en,
    input  wire [AW-1:0] addr,
    output reg  [DW-1:0] data
);
    reg [DW-1:0] rom [0:DEPTH-1];
    initial $readmemh(FILE, rom);
    always @(posedge clk) if (en) data <= rom[addr];   // addr < DEPTH
endmodule

module softmax_av_lanes #(
    parameter P    = 4,
    parameter D    = 8,
    parameter EW   = 18,
    parameter VW   = 16,
    parameter SUMW = 21,
    parameter AVW  = 40
) (
    input  wire              clk,
    input  wire              en,       // accumulate this cycle's P lanes
    input  wire              first,    // 1: a new row (accumulators restart from zero)
    input  wire [P*EW-1:0]   e,        // weights, 0 for keys that are not kept / not valid
    input  wire [P*D*VW-1:0] v,        // lane p, element c at [(p*D + c)*VW +: VW]
    output reg  [SUMW-1:0]   sum,      // registered: S and acc of the row so far
    output reg  [D*AVW-1:0]  av
);
    // Evaluated once per clock edge (a combinational block here is re-run on every lane's input event by
    // event-driven simulators: 8x slower in Icarus); the hardware is the same adder tree + accumulator register.
    integer p, c;
    reg signed [AVW-1:0] acc;
    reg signed [EW:0]    ew;
    reg signed [VW-1:0]  vv;
    reg signed [EW+VW:0] prod;
    reg [SUMW-1:0]       s;
    always @(posedge clk) begin
        if (en) begin
            s = first ? {SUMW{1'b0}} : sum;
            for (p = 0; p < P; p = p + 1) s = s + e[p*EW +: EW];
            sum <= s;
            for (c = 0; c < D; c = c + 1) begin
                acc = first ? {AVW{1'b0}} : av[c*AVW +: AVW];
                for (p = 0; p < P; p = p + 1) begin
                    ew = {1'b0, e[p*EW +: EW]};
                    vv = v[(p*D + c)*VW +: VW];
                    prod = ew * vv;
                    acc = acc + prod;
                end
                av[c*AVW +: AVW] <= acc;
            end
        end
    end
endmodule
`default_nettype wire
