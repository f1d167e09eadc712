// had-hls RTL twin of the SparseAV / DenseAV loops of templates/hls/nnet_had_attention.h / nnet_fp_attention.h
// (golden.had_exp_weights / fp_exp_weights + the sums of golden.normalise_av).
//   table_rom         : asynchronous ROM loaded with $readmemh from a file written by had_hls.rtl from the spec
//                       (the SAME integers as spec.exp_table / spec.recip_table).
//   softmax_av_lanes  : P lanes per cycle:  S += sum_p e_p;  acc[c] += sum_p e_p * v_p[c]   (exact integers;
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

module softmax_av_lanes #(
    parameter P    = 4,
    parameter D    = 8,
    parameter EW   = 18,
    parameter VW   = 16,
    parameter SUMW = 21,
    parameter AVW  = 40
) (
    input  wire              first,    // 1: a new row (accumulators from zero)
    input  wire [P*EW-1:0]   e,        // weights, 0 for keys that are not kept / not valid
    input  wire [P*D*VW-1:0] v,        // lane p, element c at [(p*D + c)*VW +: VW]
    input  wire [SUMW-1:0]   sum_in,
    input  wire [D*AVW-1:0]  av_in,
    output reg  [SUMW-1:0]   sum_out,
    output reg  [D*AVW-1:0]  av_out
);
    integer p, c;
    reg signed [AVW-1:0] acc;
    reg signed [EW:0]    ew;
    reg signed [VW-1:0]  vv;
    reg signed [EW+VW:0] prod;
    always @* begin
        sum_out = first ? {SUMW{1'b0}} : sum_in;
        for (p = 0; p < P; p = p + 1) sum_out = sum_out + e[p*EW +: EW];
        for (c = 0; c < D; c = c + 1) begin
            acc = first ? {AVW{1'b0}} : av_in[c*AVW +: AVW];
            for (p = 0; p < P; p = p + 1) begin
                ew = {1'b0, e[p*EW +: EW]};
                vv = v[(p*D + c)*VW +: VW];
                prod = ew * vv;
                acc = acc + prod;
            end
            av_out[c*AVW +: AVW] = acc;
        end
    end
endmodule
`default_nettype wire
