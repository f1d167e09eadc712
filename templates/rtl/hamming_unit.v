// had-hls RTL twin of templates/hls/nnet_hamming.h (hamming_distance) and golden.hamming_scores.
// P parallel lanes: ham[p] = popcount(q xor k[p]) in [0, D]  (XNOR + popcount: D - ham = matches).
// Bit convention: 1 = negative projected value (golden.sign_bits).
// Pipelined: the disagreements of each 6-bit group are counted by a 64-entry LUT function (pc6), the group counts
// summed by sum_tree (a register after every two adder levels); ham and the caller's tag come out LAT cycles after
// q / k, LAT = max(1, ceil(ceil(log2(ceil(D/6))) / 2)) (hamming_latency in had_hls.rtl.generate).
`default_nettype none
module hamming_unit #(
    parameter D  = 8,   // head dim (bits per code)
    parameter P  = 4,   // parallel lanes (keys per cycle)
    parameter HB = 4,   // bits of a distance: bits_for_unsigned(D)
    parameter TW = 1    // tag bits
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            en,
    input  wire [D-1:0]    q,       // query code of one head
    input  wire [P*D-1:0]  k,       // P key codes, lane p at [p*D +: D]
    input  wire [TW-1:0]   in_tag,
    output wire [P*HB-1:0] ham,     // P distances, lane p at [p*HB +: HB]
    output wire [TW-1:0]   out_tag
);
    localparam NG = (D + 5) / 6;    // 6-bit groups
    localparam SWD = (HB > 3 + $clog2(NG)) ? HB : 3 + $clog2(NG);

    function [2:0] pc6;             // ones in 6 bits: a LUT function, no adder
        input [5:0] x;
        integer b;
        begin
            pc6 = 3'd0;
            for (b = 0; b < 6; b = b + 1) pc6 = pc6 + {2'b00, x[b]};
        end
    endfunction

    genvar p, g;
    generate
        for (p = 0; p < P; p = p + 1) begin : lane
            wire [NG*6-1:0] x = {{(NG*6-D){1'b0}}, q ^ k[p*D +: D]};
            wire [NG*3-1:0] cnt;
            for (g = 0; g < NG; g = g + 1) begin : grp
                assign cnt[g*3 +: 3] = pc6(x[g*6 +: 6]);
            end
            wire [TW-1:0] t;
            wire [SWD-1:0] total;
            sum_tree #(.N(NG), .WI(3), .WO(SWD), .SIGNED(0), .RE(2), .TW(TW)) sum (
                .clk(clk), .rst(rst), .en(en), .in(cnt), .in_tag(in_tag), .out(total), .out_tag(t));
            assign ham[p*HB +: HB] = total[HB-1:0];
            if (p == 0) begin : tag
                assign out_tag = t;
            end
        end
    endgenerate
endmodule
`default_nettype wire
