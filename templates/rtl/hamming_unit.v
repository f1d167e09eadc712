// had-hls RTL twin of templates/hls/nnet_hamming.h (hamming_distance) and golden.hamming_scores.
// P parallel lanes: ham[p] = popcount(q xor k[p]) in [0, D]  (XNOR + popcount: D - ham = matches).
// Bit convention: 1 = negative projected value (golden.sign_bits). Purely combinational.
`default_nettype none
module hamming_unit #(
    parameter D  = 8,   // head dim (bits per code)
    parameter P  = 4,   // parallel lanes (keys per cycle)
    parameter HB = 4    // bits of a distance: bits_for_unsigned(D)
) (
    input  wire [D-1:0]    q,     // query code of one head
    input  wire [P*D-1:0]  k,     // P key codes, lane p at [p*D +: D]
    output wire [P*HB-1:0] ham    // P distances, lane p at [p*HB +: HB]
);
    function [HB-1:0] popcount;
        input [D-1:0] x;
        integer c;
        begin
            popcount = {HB{1'b0}};
            for (c = 0; c < D; c = c + 1) popcount = popcount + {{(HB-1){1'b0}}, x[c]};
        end
    endfunction

    genvar p;
    generate
        for (p = 0; p < P; p = p + 1) begin : lane
            assign ham[p*HB +: HB] = popcount(q ^ k[p*D +: D]);
        end
    endgenerate
endmodule
`default_nettype wire
